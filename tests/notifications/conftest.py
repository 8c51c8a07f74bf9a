"""Fixtures for notifications: a real HTTP receiver on 127.0.0.1, deliveries run in the test's process, and
a real Celery worker for retries."""

import hashlib
import hmac
import json
import os
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.db import connection

from deployments.runs import dispatch
from notifications import services
from portal.celery import app as celery_app
from tests.deployments.conftest import WorkerProcess, media, upload, wait_for  # noqa: F401  (fixtures)


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next status of `script` (the last one repeats) and keeps what it got."""

    script: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, count: int, timeout: float = 60) -> list[Received]:
        wait_for(lambda: len(self.requests) >= count, timeout=timeout, interval=0.05,
                 message=f"{count} request(s) at the receiver")  # fmt: skip
        return self.requests


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """How a receiver checks a delivery (the snippet of docs/notifications.md)."""
    import time

    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp = int(parts["t"])
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state.lock:
                index = len(state.requests)
                state.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = state.script[min(index, len(state.script) - 1)]
            answer = f'{{"received": {index + 1}, "status": {status}}}'.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/hangar?team=data"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def allow_private(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_BACKOFF_SECONDS = 0
    return settings


@pytest.fixture
def deliver_inline(monkeypatch, allow_private):
    """Deliveries run in the test's process as soon as they are queued (Celery's apply: retries at once);
    every other task is dropped, as `run_here` does."""
    from notifications import tasks

    def send_task(name, *args, countdown=0):
        if name == services.DELIVER:
            tasks.deliver.apply(args=list(args))
        return ""

    monkeypatch.setattr(dispatch, "send_task", send_task)


@pytest.fixture
def notify_worker(tmp_path):
    """Start a real Celery worker on the test database, with notification settings of the test's choosing."""
    if connection.vendor != "postgresql":
        pytest.skip("worker tests share the PostgreSQL test database with a worker process")
    celery_app.control.purge()
    db = connection.settings_dict
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE") and not key.startswith("PYTEST")}  # fmt: skip
    env.update(
        DATABASE_URL=f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_BROKER_URL=django_settings.CELERY_BROKER_URL,
        SECRET_KEY=django_settings.SECRET_KEY,
        DEBUG="false",
        WEBHOOK_ALLOW_PRIVATE="true",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        HANGAR_VAR_DIR=str(tmp_path / "var"),
    )
    workers: list[WorkerProcess] = []

    def start(**settings_env) -> WorkerProcess:
        worker = WorkerProcess({**env, **settings_env}, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
