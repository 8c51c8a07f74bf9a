"""Faults during a run, each bounded in time: the run ends in a final status, the queue moves on, the
state stays valid and forward-only, no Terraform process is left, and no log line is lost."""

import os
import signal

import pytest

from deployments.runs.choices import RunStatus
from deployments.runs.models import Run
from deployments.runs.services import run_start
from tests.deployments.conftest import wait_for
from tests.deployments.helpers import assert_recovered, wait_finished

pytestmark = [pytest.mark.worker, pytest.mark.terraform, pytest.mark.chaos, pytest.mark.django_db(transaction=True)]


def start(project, user, operation="apply", environment="dev", version="0.1.0"):
    return run_start(
        project=project, environment=environment, target="local", version=version, operation=operation, user=user
    )


def wait_applying(run, timeout=120):
    def applying():
        run.refresh_from_db()
        return run.status == RunStatus.APPLYING and run.log_lines.filter(type="apply_start").exists()

    wait_for(applying, timeout=timeout, message=f"run #{run.pk} to be applying")


def wait_exited(worker, timeout):
    wait_for(lambda: worker.process.poll() is not None, timeout=timeout, message="the worker to exit")


def test_sigterm_lets_the_run_in_flight_finish_and_takes_no_new_run(
    start_worker, worker_env, upload, project, lead, tmp_path
):
    worker_env.update(LOCALCLOUD_LATENCY_MS="1500", RUN_DRAIN_TIMEOUT="120")
    worker = start_worker()
    upload(project, lead, "0.1.0", tables=["a", "b"])
    running = start(project, lead)
    wait_applying(running)
    os.kill(worker.process.pid, signal.SIGTERM)  # the main process only: it passes the request on
    wait_for(
        lambda: running.log_lines.filter(message__startswith="worker shutting down: this run may finish").exists(),
        timeout=20,
        message="the run to say the worker is shutting down",
    )
    later = start(project, lead, environment="test")  # sent while the worker drains: not for this worker
    wait_exited(worker, timeout=120)
    running.refresh_from_db()
    assert running.status == RunStatus.SUCCEEDED, running.error
    assert Run.objects.get(pk=later.pk).status == RunStatus.QUEUED

    worker_env["LOCALCLOUD_LATENCY_MS"] = "0"
    start_worker()
    assert wait_finished(later, timeout=120).status == RunStatus.SUCCEEDED, later.error
    again = wait_finished(start(project, lead, operation="plan"), timeout=120)
    assert again.status == RunStatus.SUCCEEDED, again.error
    # Acknowledged once finished: never delivered again and run a second time.
    assert running.transitions.filter(status=RunStatus.PLANNING).count() == 1
    assert_recovered(running.deployment, workspace_dir=tmp_path / "runs")


def test_sigterm_past_the_drain_timeout_cancels_the_run_gracefully(
    start_worker, worker_env, upload, project, lead, tmp_path
):
    worker_env.update(LOCALCLOUD_LATENCY_MS="3000", RUN_DRAIN_TIMEOUT="2", RUN_CANCEL_GRACE="20")
    worker = start_worker()
    upload(project, lead, "0.1.0", tables=["a", "b", "c"])
    running = start(project, lead)
    wait_applying(running)
    os.killpg(worker.process.pid, signal.SIGTERM)  # the whole group, as systemd does
    wait_exited(worker, timeout=60)
    running.refresh_from_db()
    assert running.status == RunStatus.CANCELLED, (running.status, running.error)
    assert running.error.startswith("worker shutting down:") and "RUN_DRAIN_TIMEOUT" in running.error
    assert running.log_lines.filter(message__startswith="worker shutting down: the run did not finish").exists()
    # Interrupted, not killed: Terraform released its lock itself and saved what it had done.
    assert running.log_lines.filter(message__icontains="interrupt").exists()
    running.deployment.refresh_from_db()
    assert running.deployment.lock_id == ""

    worker_env["LOCALCLOUD_LATENCY_MS"] = "0"
    start_worker()
    again = wait_finished(start(project, lead), timeout=120)
    assert again.status == RunStatus.SUCCEEDED, again.error
    assert running.transitions.filter(status=RunStatus.PLANNING).count() == 1
    assert_recovered(running.deployment, workspace_dir=tmp_path / "runs")


def _postgresql_version() -> str | None:
    import shutil
    from pathlib import Path

    versions = sorted(p.name for p in Path("/etc/postgresql").glob("*") if (p / "main").is_dir())
    if not versions or shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
        return None
    return versions[-1]


def _db_retrying(fn, timeout=60):
    """Run a test-side query, reconnecting while the server comes back."""
    import time

    from django.db import InterfaceError, OperationalError, connection

    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except (OperationalError, InterfaceError):
            if time.monotonic() > deadline:
                raise
            connection.close()
            time.sleep(0.5)


@pytest.mark.pg_restart
def test_a_postgresql_restart_during_an_apply_costs_nothing(
    start_worker, worker_env, upload, project, lead, tmp_path, live_server
):
    """Restarts the machine's PostgreSQL (shared with other test runs) once, for a second or two."""
    import subprocess

    from django.db import connection

    version = _postgresql_version()
    db = connection.settings_dict
    if version is None or (db["HOST"] or "127.0.0.1") not in ("127.0.0.1", "localhost"):
        pytest.skip("needs root and the machine's own PostgreSQL cluster (pg_ctlcluster)")
    worker_env["LOCALCLOUD_LATENCY_MS"] = "1500"
    worker = start_worker()
    upload(project, lead, "0.1.0", tables=["a", "b", "c"])
    running = start(project, lead)
    queued = start(project, lead, operation="plan")
    wait_applying(running)
    connection.close()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        timeout=60,
        capture_output=True,
    )

    def finished(run):
        def check():
            run.refresh_from_db()
            return run.is_finished

        return lambda: _db_retrying(check)

    wait_for(finished(running), timeout=180, message="the apply to finish after the restart")
    assert running.status == RunStatus.SUCCEEDED, running.error
    assert running.transitions.filter(status=RunStatus.PLANNING).count() == 1
    wait_for(finished(queued), timeout=120, message="the queued plan to run")
    assert queued.status == RunStatus.SUCCEEDED, queued.error
    assert "database unavailable" in worker.log() or "could not reach the database" in worker.log()
    assert_recovered(running.deployment, workspace_dir=tmp_path / "runs")


class PrivateRedis:
    """A redis-server of this test's own on a free port: the machine's Redis is shared, so it is not the one stopped."""

    def __init__(self, tmp_path):
        import shutil
        import subprocess

        from tests.deployments.conftest import _free_port

        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(tmp_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self.answers, timeout=20, message="the private redis-server to answer")

    def answers(self) -> bool:
        import redis

        try:
            return redis.Redis.from_url(self.url, socket_timeout=1).ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def test_redis_stopping_during_a_live_stream_loses_no_line(start_worker, worker_env, upload, project, lead, tmp_path):
    import threading

    from django.test import Client

    from tests.deployments.conftest import WebProcess, session_cookie
    from tests.live.test_sse import Stream, line_seqs

    redis_server = PrivateRedis(tmp_path)
    web = None
    try:
        worker_env.update(LOCALCLOUD_LATENCY_MS="1500", LIVE_REDIS_URL=redis_server.url)
        start_worker()
        web = WebProcess(dict(worker_env), tmp_path / "web.log")
        upload(project, lead, "0.1.0", tables=["a", "b", "c"])
        running = start(project, lead)
        stream = Stream(web.url, f"/runs/{running.pk}/events/", session_cookie(Client(), lead))
        assert stream.response.status == 200
        received: list[int] = []
        ended: list[str] = []

        def follow():
            for event in stream.events():
                if event["event"] == "line":
                    received.extend(line_seqs(event))
                elif event["event"] == "end":
                    ended.append(event["data"])
                    return

        reader = threading.Thread(target=follow, daemon=True)
        reader.start()
        wait_applying(running)
        wait_for(lambda: received, timeout=30, message="the first lines over the stream")
        redis_server.stop()  # wake-ups are gone: the stream must fall back to reading the database
        before_stop = len(received)
        reader.join(timeout=180)
        assert not reader.is_alive(), "the stream did not end with the run"
        stream.close()
        running.refresh_from_db()
        assert running.status == RunStatus.SUCCEEDED, running.error
        assert ended == ["succeeded"]
        stored = list(running.log_lines.order_by("seq").values_list("seq", flat=True))
        assert received == stored, "the stream lost or repeated lines"
        assert len(received) > before_stop, "no line came after Redis stopped"
        again = wait_finished(start(project, lead, operation="plan"), timeout=120)
        assert again.status == RunStatus.SUCCEEDED, again.error
        assert_recovered(running.deployment, workspace_dir=tmp_path / "runs")
    finally:
        redis_server.stop()
        if web is not None:
            web.stop()
