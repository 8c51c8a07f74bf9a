"""Plumbing shared by the benchmarks: a throw-away site in a temporary directory, its database,
real web and worker processes (always killed on exit, Ctrl-C included), a tiny SSE client and
percentiles. Import it before Django: `site_prepare()` sets the environment Django reads."""

import atexit
import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")

_processes: list[subprocess.Popen] = []
_cleanups: list = []


def _terminate(signum, frame):  # SIGTERM behaves like Ctrl-C: unwind, clean up
    raise KeyboardInterrupt


def _cleanup_all() -> None:
    for process in reversed(_processes):
        stop_process(process)
    while _cleanups:
        try:
            _cleanups.pop()()
        except Exception as error:  # clean up as much as possible
            print(f"clean-up step failed: {error}", file=sys.stderr)


atexit.register(_cleanup_all)
signal.signal(signal.SIGTERM, _terminate)


def on_exit(callback) -> None:
    """Run `callback` at exit (after the processes are stopped), last registered first."""
    _cleanups.append(callback)


class Site:
    """A Hangar site of its own: temporary var dir, media, local cloud, workspaces, database, broker."""

    def __init__(self, name: str, *, embedded: bool, redis_db: int, keep: bool = False):
        self.name, self.embedded = name, embedded
        self.dir = Path(tempfile.mkdtemp(prefix=f"hangar-bench-{name}-"))
        if not (keep or os.environ.get("BENCH_KEEP")):  # BENCH_KEEP=1 keeps the logs for a post-mortem
            on_exit(lambda: shutil.rmtree(self.dir, ignore_errors=True))
        self.db_name = f"hangar_bench_{name}"
        if embedded:
            self.database_url = f"sqlite:///{self.dir / 'hangar.sqlite3'}"
            self.broker_url = "filesystem://"
        else:
            self.database_url = f"postgres://postgres@127.0.0.1:5432/{self.db_name}"
            self.broker_url = f"{REDIS_URL}/{redis_db}"
        self.env = {
            key: value
            for key, value in os.environ.items()
            # DATABASE_POOL_* passes through, so a pool can be measured
            if not key.startswith(("DATABASE_URL", "CELERY_", "LIVE_", "RUN_", "LOCALCLOUD_", "TERRAFORM_", "PYTEST"))
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="portal.settings",
            DEBUG="false",
            SECRET_KEY="bench-secret-key-not-for-production-0123456789",
            HANGAR_VAR_DIR=str(self.dir / "var"),
            MEDIA_ROOT=str(self.dir / "media"),
            LOCALCLOUD_ROOT=str(self.dir / "localcloud"),
            RUN_WORKSPACE_DIR=str(self.dir / "runs"),
            TERRAFORM_DIR=str(self.dir / "terraform"),
            DATABASE_URL=self.database_url,
            CELERY_BROKER_URL=self.broker_url,
            LOG_LEVEL="WARNING",
        )

    def set(self, **values: str) -> None:
        self.env.update(values)

    def activate(self) -> None:
        """Create the database, point this process at the site and set Django up with migrations."""
        from localcloud.launcher import ServerProcess

        # The site's own local cloud service; runs reach it with tokens Hangar mints.
        self.cloud = ServerProcess(self.dir / "localcloud", log=self.dir / "localcloud.log", env=self.env)
        on_exit(self.cloud.stop)
        self.set(LOCALCLOUD_URL=self.cloud.url, LOCALCLOUD_OPERATOR_TOKEN_FILE=str(self.cloud.token_file))
        if not self.embedded:
            pg_recreate(self.db_name)
            on_exit(lambda: pg_drop(self.db_name))
            redis_flush(self.broker_url)
        os.environ.update(self.env)
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)

    def web(self, *, extra: dict | None = None) -> "Web":
        return Web(self.env | (extra or {}), self.dir / "web.log")

    def worker(self, *, concurrency: int = 1) -> subprocess.Popen:
        logfile = self.dir / "worker.log"
        args = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--loglevel=INFO",
                f"--concurrency={concurrency}", "--prefetch-multiplier=1", "--without-gossip",
                "--without-mingle", "--without-heartbeat"]  # fmt: skip
        process = spawn(args, self.env, logfile)
        wait_for(lambda: b"ready." in logfile.read_bytes(), process, logfile, "the Celery worker")
        return process


def pg_recreate(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def pg_drop(name: str) -> None:
    from django.db import connections

    connections.close_all()
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def spawn(args: list[str], env: dict, logfile: Path) -> subprocess.Popen:
    with open(logfile, "ab") as out:
        process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    _processes.append(process)
    return process


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def wait_for(ready, process: subprocess.Popen, logfile: Path, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{what} exited:\n{logfile.read_text(errors='replace')[-3000:]}")
        if ready():
            return
        time.sleep(0.1)
    sys.exit(f"{what} did not start within {timeout}s:\n{logfile.read_text(errors='replace')[-3000:]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Web:
    """One uvicorn process serving the site (ASGI, as in production)."""

    def __init__(self, env: dict, logfile: Path, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "uvicorn", "portal.asgi:application", "--host", "127.0.0.1",
                "--port", str(self.port), "--no-access-log", "--log-level", "warning"]  # fmt: skip
        self.process = spawn(args, env | {"SITE_URL": self.url}, logfile)
        wait_for(self._healthy, self.process, logfile, "uvicorn")

    @property
    def pid(self) -> int:
        return self.process.pid

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False


def session_cookie(user) -> str:
    """A session a separate web process accepts (it lives in the shared database)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


SEQ = re.compile(r'data-seq="(\d+)"')


class SSE:
    """A minimal blocking SSE client: yields (event, id, data, received_at) as events arrive."""

    def __init__(self, base_url: str, path: str, cookie: str, timeout: float = 60):
        host, port = base_url.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
        self.connection.request("GET", path, headers={"Cookie": f"sessionid={cookie}", "Accept": "text/event-stream"})
        self.response = self.connection.getresponse()
        if self.response.status != 200:
            raise RuntimeError(f"GET {path} answered {self.response.status}")

    def events(self):
        fields: dict[str, str] = {}
        while True:
            raw = self.response.readline()
            if not raw:
                return
            line = raw.decode().rstrip("\n")
            if not line:
                if "event" in fields:
                    yield fields.get("event"), fields.get("id"), fields.get("data", ""), time.time()
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = fields[name] + "\n" + value if name in fields else value

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()


def percentile(values, fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def machine_note() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} CPUs, load {load:.2f}, Python {sys.version.split()[0]}"


def make_running_run(username: str = "bench-lead"):
    """A user, their team's project and one run that is applying (no worker needed). Returns (run, user)."""
    from django.contrib.auth import get_user_model

    from deployments.artifacts.models import Artifact
    from deployments.runs.choices import RunStatus
    from deployments.runs.models import Deployment, Run, RunTransition
    from onboarding import services

    user = get_user_model().objects.create_user(username, password="x")
    team = services.team_create(name=f"{username} team", lead=user)
    project = services.project_register(service_control_id=123, name="bench", team=team, user=user)
    artifact = Artifact.objects.create(
        project=project, version="1.0.0", version_key="1.0.0", sha256="0" * 64, size=1, file="bench.zip"
    )
    deployment = Deployment.objects.create(environment=project.environments.get(name="dev"), target="local")
    run = Run.objects.create(deployment=deployment, artifact=artifact, requested_by=user, status=RunStatus.APPLYING)
    for status in (RunStatus.QUEUED, RunStatus.PLANNING, RunStatus.PLANNED, RunStatus.APPLYING):
        RunTransition.objects.create(run=run, status=status)
    Deployment.objects.filter(pk=deployment.pk).update(active_run=run)
    return run, user


def writer(site: Site, run_id: int, *, lines: int, rate: float, start_at: float = 0) -> subprocess.Popen:
    """Start bench/_writer.py against the site: stores lines through RunLog.store in its own process."""
    args = [sys.executable, str(ROOT / "bench" / "_writer.py"), "--run", str(run_id), "--lines", str(lines),
            "--rate", str(rate), "--start-at", str(start_at)]  # fmt: skip
    return spawn(args, site.env, site.dir / "writer.log")


SENT = re.compile(r"sent=(\d+\.\d+)")


def read_proc_stat(pid: int) -> tuple[float, int]:
    """(CPU seconds used, RSS bytes) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    return cpu, rss
