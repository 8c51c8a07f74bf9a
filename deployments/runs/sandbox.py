"""The sandbox every Terraform process of a run lives in (bubblewrap).

An artifact is untrusted code: its Terraform, and anything Terraform starts,
must see nothing of the worker but what it needs to run. Each command gets
new PID, IPC, UTS and cgroup namespaces, a private /proc, /dev and /tmp, and
no capabilities. It sees a read-only view of the system's libraries and
programs, of the Python runtime the local-cloud provider needs, of the
Terraform binary and of the provider mirror. Its own workspace is the only
place it can write. Nothing else under HANGAR_VAR_DIR is visible: not the
database, the secret key, the media, other runs' workspaces or the local
cloud's files.

The network is shared, because Terraform must reach the state backend and the
local cloud. What those accept is limited by the run's own credentials. A
process of the sandbox dies with the run: `--die-with-parent`, and when the
sandbox's first process exits, the kernel ends every process of its PID
namespace.

`RUN_SANDBOX=off` runs Terraform directly. That is unsafe, and the run page and
the Operations page say so."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from django.conf import settings

from deployments.runs import toolchain

# The system's programs and libraries: read-only, and nothing of /root, /home, /srv, /var or /work.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Just what resolving names and loading libraries needs; no passwd, no shadow, no machine-id.
SYSTEM_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/resolv.conf",
    "/etc/localtime",
    "/etc/ssl",
    "/etc/ca-certificates",
)
HOSTNAME = "hangar-run"


class SandboxUnavailable(Exception):
    """Runs refuse to start: the message says why and what to install."""


def enabled() -> bool:
    return settings.RUN_SANDBOX != "off"


def bwrap_binary() -> str | None:
    return shutil.which(settings.RUN_SANDBOX_BWRAP)


def _system_binds() -> list[str]:
    args: list[str] = []
    for path in SYSTEM_DIRS:
        location = Path(path)
        if location.is_symlink():  # merged /usr: /bin -> usr/bin stays a link
            args += ["--symlink", str(location.readlink()), path]
        elif location.is_dir():
            args += ["--ro-bind", path, path]
    for path in SYSTEM_FILES:
        args += ["--ro-bind-try", path, path]
    return args


def python_runtime() -> list[Path]:
    """The interpreter the provider runs on: the virtualenv and the Python it was made from."""
    return sorted({Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()})


def command(args: list[str], *, workspace: Path, workdir: Path, readonly: list[Path]) -> list[str]:
    """`args` wrapped to run inside a fresh sandbox that can write only `workspace`."""
    binary = bwrap_binary()
    if binary is None:
        raise SandboxUnavailable(unavailable_message("bwrap was not found on PATH"))
    workspace = Path(workspace).resolve()
    program = Path(args[0])
    if program.is_absolute():  # binds are made at real paths, so the program is named by its real path too
        args = [str(program.resolve()), *args[1:]]
    wrapped = [
        binary,
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        HOSTNAME,
        "--die-with-parent",
        "--cap-drop",
        "ALL",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        *_system_binds(),
    ]
    for path in sorted({Path(p).resolve() for p in readonly}):
        if path.exists():
            wrapped += ["--ro-bind", str(path), str(path)]
    wrapped += ["--bind", str(workspace), str(workspace), "--chdir", str(Path(workdir).resolve()), "--", *args]
    return wrapped


def terraform_command(
    args: list[str], *, workspace: Path, workdir: Path, mirror: Path | None = None, cli_config: Path | None = None
) -> list[str]:
    """A Terraform command in the sandbox, with the read-only toolchain it needs: the binary (`args[0]`),
    the provider mirror, the CLI configuration and the Python runtime of the local-cloud provider."""
    readonly = [
        Path(args[0]),
        Path(mirror) if mirror else toolchain.mirror_dir(),
        Path(cli_config) if cli_config else toolchain.cli_config_path(),
        *python_runtime(),
    ]
    return command(args, workspace=workspace, workdir=workdir, readonly=readonly)


class TerraformTimeout(Exception):
    pass


def terraform_run(
    args: list[str], *, workspace: Path, workdir: Path, env: dict[str, str], out, stderr
) -> tuple[int, bytes]:
    """One Terraform command outside the run executor (read-only jobs, recovery drills): in the sandbox unless
    RUN_SANDBOX=off, standard output to the file `out`, `stderr` a file, PIPE or STDOUT. Its exit code and what
    it wrote on a piped standard error; TerraformTimeout, with the sandbox killed, after RUN_TIME_LIMIT."""
    command = terraform_command(args, workspace=workspace, workdir=workdir) if enabled() else args
    process = subprocess.Popen(
        command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=stderr, start_new_session=True
    )
    try:
        _, errors = process.communicate(timeout=settings.RUN_TIME_LIMIT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the sandbox and everything in it
        process.communicate()
        raise TerraformTimeout(
            f"terraform {args[1]} took longer than {settings.RUN_TIME_LIMIT} s and was stopped."
        ) from None
    return process.returncode, errors or b""


def unavailable_message(reason: str) -> str:
    return (
        f"Runs are refused because Terraform cannot be sandboxed on this worker: {reason}. "
        "Install bubblewrap (Debian: apt-get install bubblewrap; `make setup` does this) and make sure the worker "
        "may create namespaces. Setting RUN_SANDBOX=off runs Terraform without isolation: any artifact could then "
        "read the worker's files; do that only on a machine that serves a single trusted team."
    )


_probe_lock = threading.Lock()
_probe_result: tuple[str, str | None] | None = None  # (bwrap path, problem or None)


def check() -> None:
    """Raise SandboxUnavailable unless a sandbox can be created here (probed once per process and binary)."""
    global _probe_result
    if not enabled():
        return
    binary = bwrap_binary()
    if binary is None:
        raise SandboxUnavailable(unavailable_message(f"{settings.RUN_SANDBOX_BWRAP!r} was not found on PATH"))
    with _probe_lock:
        if _probe_result is None or _probe_result[0] != binary:
            _probe_result = (binary, _probe(binary))
        problem = _probe_result[1]
    if problem:
        raise SandboxUnavailable(unavailable_message(problem))


def _probe(binary: str) -> str | None:
    with tempfile.TemporaryDirectory(prefix="hangar-sandbox-probe-") as scratch:
        probe = command(["/bin/true"], workspace=Path(scratch), workdir=Path(scratch), readonly=[])
        probe[0] = binary
        try:
            result = subprocess.run(probe, capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"bwrap could not be started ({error})"
    if result.returncode != 0:
        return f"bwrap failed: {(result.stderr or result.stdout).strip() or f'exit code {result.returncode}'}"
    return None
