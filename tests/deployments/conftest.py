"""Fixtures for deploy tests: a small infrastructure project, artifacts built
from it, a real Celery worker on Redis, and Hangar served to Terraform."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from deployments.artifacts.build import build_artifact
from deployments.artifacts.services import artifact_upload
from portal.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]

SCHEMA = [
    {"name": "dt", "type": "DATE", "mode": "REQUIRED"},
    {"name": "team", "type": "STRING", "mode": "NULLABLE", "description": "Owning team"},
    {"name": "resources", "type": "INTEGER", "mode": "NULLABLE"},
]


def write_project(
    root: Path, *, tables: list[str], description: str = "Reports", deletion_protection: bool = True
) -> Path:
    """A project folder laid out like a team's repository, with one dataset per environment.
    `deletion_protection=False` writes it on every table, for tests that drop tables."""
    (root / "infrastructure" / "bq_schemas").mkdir(parents=True, exist_ok=True)
    (root / "infrastructure" / "bq_schemas" / "summary.json").write_text(json.dumps(SCHEMA, indent=2))
    (root / "hangar.yaml").write_text("service_control_id: 123\nname: example\nteam: data-engine\n")
    protection = "" if deletion_protection else "              deletion_protection: false\n"
    table_yaml = "".join(
        f'          - name: {name}\n            parameters:\n              schema: "file:bq_schemas/summary.json"\n'
        + protection
        for name in tables
    )
    for env in ("dev", "test", "prod"):
        folder = root / "infrastructure" / env
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "main.yaml").write_text(
            "infrastructure:\n"
            "  gcp:\n"
            "    service_accounts:\n"
            "      - name: example-compute\n"
            "    datasets:\n"
            "      - name: example_reports\n"
            "        parameters:\n"
            f"          description: {description}\n"
            "        tables:\n" + table_yaml
        )
    return root


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def upload(media, tmp_path):
    """Build the project folder at a version and upload it as `user`."""

    def upload_version(project, user, version, *, tables=("summary",), description="Reports", deletion_protection=True):
        source = write_project(
            tmp_path / f"src-{version}",
            tables=list(tables),
            description=description,
            deletion_protection=deletion_protection,
        )
        built = build_artifact(source_dir=source, version=version, project_slug=project.slug, builder="tests")
        artifact, _ = artifact_upload(project=project, fileobj=io.BytesIO(built.content), user=user)
        return artifact

    return upload_version


def _wait_for(condition, *, timeout: float, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


wait_for = _wait_for


class WorkerProcess:
    """A real `celery worker` process against the test database and Redis."""

    def __init__(self, env: dict[str, str], logfile: Path, *, beat: bool = False, concurrency: int = 2):
        self.logfile = logfile
        args = [
            sys.executable, "-m", "celery", "-A", "portal", "worker", "--loglevel=INFO",
            f"--concurrency={concurrency}", "--prefetch-multiplier=1", "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        if beat:
            args += ["--beat", f"--schedule={logfile.parent / 'beat-schedule'}"]
        with open(logfile, "ab") as out:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        _wait_for(lambda: b"ready." in logfile.read_bytes() or self.process.poll() is not None,
                  timeout=60, message="the Celery worker to start")  # fmt: skip
        if self.process.poll() is not None:
            raise AssertionError(f"the Celery worker exited:\n{logfile.read_text()[-4000:]}")

    def kill(self) -> None:
        """Like a lost machine: no warning, no clean-up."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.logfile.read_text(errors="replace")


@pytest.fixture
def worker_env(live_server, media, localcloud, tmp_path):
    """The environment a worker needs to share this test's database, storage, server and local cloud."""
    db = connection.settings_dict
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "LOCALCLOUD_ROOT") and not key.startswith("PYTEST")
    }
    env.update(
        DATABASE_URL=f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_BROKER_URL=django_settings.CELERY_BROKER_URL,
        SITE_URL=live_server.url,
        MEDIA_ROOT=str(media),
        LOCALCLOUD_URL=localcloud.url,
        LOCALCLOUD_OPERATOR_TOKEN_FILE=str(localcloud.token_file),
        RUN_WORKSPACE_DIR=str(tmp_path / "runs"),
        RUN_HEARTBEAT_INTERVAL="1",
        RUN_HEARTBEAT_TIMEOUT="6",
        RUN_REAPER_INTERVAL="2",
        SECRET_KEY=django_settings.SECRET_KEY,
        DEBUG="false",
    )
    return env


@pytest.fixture
def start_worker(worker_env, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("worker tests share the PostgreSQL test database with a worker process")
    celery_app.control.purge()  # nothing left over from an earlier run may reach this worker
    workers: list[WorkerProcess] = []

    def start(**options) -> WorkerProcess:
        worker = WorkerProcess(worker_env, tmp_path / f"worker-{len(workers)}.log", **options)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WebProcess:
    """Hangar under uvicorn (ASGI), as in production: what SSE needs."""

    def __init__(self, env: dict[str, str], logfile: Path):
        self.env, self.logfile, self.port = env, logfile, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        import urllib.request

        args = [sys.executable, "-m", "uvicorn", "portal.asgi:application", "--host", "127.0.0.1",
                "--port", str(self.port), "--no-access-log"]  # fmt: skip
        with open(self.logfile, "ab") as out:
            self.process = subprocess.Popen(
                args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

        def healthy() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"uvicorn exited:\n{self.logfile.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        _wait_for(healthy, timeout=60, message="uvicorn to answer")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


@pytest.fixture
def web(worker_env, tmp_path):
    """A uvicorn process serving the test database; `web.stop()` / `web.start()` restart it on the same port."""
    server = WebProcess(dict(worker_env), tmp_path / "web.log")
    yield server
    server.stop()


def session_cookie(client, user) -> str:
    """A session a separate server accepts: it lives in the shared test database."""
    client.force_login(user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def run_here(live_server, media, localcloud, settings, tmp_path, monkeypatch):
    """Runs executed in the test's own process (no Celery), against the live server's state backend.

    For tests that reach into the executor (monkeypatching a service to fail)."""
    from deployments.runs import dispatch, executor
    from deployments.runs.services import run_start

    if connection.vendor != "postgresql":
        pytest.skip("the live server's threads share the PostgreSQL test database")
    settings.SITE_URL = live_server.url
    settings.RUN_WORKSPACE_DIR = tmp_path / "runs"
    settings.RUN_HEARTBEAT_INTERVAL = 1
    monkeypatch.setattr(dispatch, "send_task", lambda name, *args: "")

    def run(project, user, version, operation="apply", environment="dev", *, execute=True):
        started = run_start(
            project=project, environment=environment, target="local", version=version, operation=operation, user=user
        )
        if execute:
            executor.run_execute(run_id=started.pk, worker="test-host")
        started.refresh_from_db()
        return started

    return run
