"""Start `python -m localcloud serve` as a child process and wait until it listens.

For the test suite (one server per session) and the benchmarks: the server picks a free port
itself (`--port 0`) and prints its address once listening, so there is no race for a port and
no fixed sleep. `restart()` brings it back on the same port and root (tokens survive it), and
`wipe()` empties a throw-away cloud between tests or rounds.
"""

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from localcloud.client import Client
from localcloud.errors import NotFound
from localcloud.tokens import TOKEN_FILE_NAME, read_operator_token

START_TIMEOUT_SECONDS = 30.0


class ServerProcess:
    def __init__(self, root: Path | str, *, token_file: Path | str | None = None, log: Path | str | None = None,
                 env: dict[str, str] | None = None) -> None:  # fmt: skip
        self.root = Path(root)
        self.token_file = Path(token_file) if token_file else self.root / TOKEN_FILE_NAME
        self.log = Path(log) if log else self.root.parent / f"{self.root.name}-server.log"
        self.env = dict(env if env is not None else os.environ)
        self.port = 0
        self.url = ""
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        args = [sys.executable, "-m", "localcloud", "--root", str(self.root), "--token-file", str(self.token_file),
                "serve", "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                args, cwd=Path(__file__).resolve().parents[1], env=self.env, stdout=subprocess.PIPE, stderr=log,
                start_new_session=True,
            )  # fmt: skip
        line = self._first_line()
        # "localcloud serving <root> on http://127.0.0.1:<port> (operator token: <file>)"
        self.url = line.split(" on ", 1)[1].split(" ", 1)[0]
        self.port = int(self.url.rsplit(":", 1)[1])

    def _first_line(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if selector.select(timeout=0.5):
                    line = self.process.stdout.readline().decode()
                    if line.startswith("localcloud serving"):
                        return line
                if self.process.poll() is not None:
                    break
        self.stop()
        raise RuntimeError(f"the local cloud server did not start; its log:\n{self.log.read_text()[-4000:]}")

    @property
    def operator_token(self) -> str:
        return read_operator_token(self.token_file)

    def client(self, token: str | None = None) -> Client:
        """A client of this server: the operator's, or one with `token`."""
        return Client(self.url, token if token is not None else self.operator_token)

    def env_for(self, token: str | None = None) -> dict[str, str]:
        """What a process (Terraform, the CLI) needs to reach this server."""
        return {"LOCALCLOUD_URL": self.url, "LOCALCLOUD_TOKEN": token or self.operator_token,
                "LOCALCLOUD_OPERATOR_TOKEN_FILE": str(self.token_file)}  # fmt: skip

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wipe(api: Client) -> None:
    """Delete every resource of every project the client sees, until nothing is left (operator's client)."""
    for _ in range(5):
        projects = api.projects()
        if not projects:
            return
        for project in projects:
            for resource in api.list_resources(project):
                with contextlib.suppress(NotFound):  # a dataset takes its tables along, and so on
                    api.delete(project, resource["type"], resource["name"])
    raise RuntimeError(f"the local cloud could not be emptied: {api.projects()}")
