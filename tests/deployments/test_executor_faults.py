"""Faults inside the executor: Terraform never outlives its run, and the watchdog keeps watching."""

import pytest
from django.db import OperationalError

from deployments.runs import executor
from deployments.runs.choices import RunStatus
from deployments.runs.logs import RunLog
from tests.deployments.helpers import process_group_alive

pytestmark = [pytest.mark.terraform, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def spawned(monkeypatch):
    """Every process group a step starts, in order."""
    groups: list[int] = []
    real = executor._popen

    def popen(*args, **kwargs):
        process = real(*args, **kwargs)
        groups.append(process.pid)
        return process

    monkeypatch.setattr(executor, "_popen", popen)
    return groups


def test_a_failure_storing_a_line_stops_terraform_before_the_run_ends(
    run_here, upload, project, lead, settings, monkeypatch, spawned
):
    settings.LOCALCLOUD_LATENCY_MS = 2000
    settings.RUN_CANCEL_GRACE = 5
    upload(project, lead, "0.1.0", tables=["a", "b", "c"])
    real = RunLog.store_many

    def store_many(self, lines):
        if any(line.type == "apply_start" for line in lines):
            raise OperationalError("the database went away")
        return real(self, lines)

    monkeypatch.setattr(RunLog, "store_many", store_many)
    run = run_here(project, lead, "0.1.0")
    assert run.status == RunStatus.FAILED
    assert len(spawned) == 4  # init, plan, show -json of the saved plan (beside the apply), apply
    assert process_group_alive(spawned[-1]) == [], "terraform apply is still running after its run ended"


def _claimed(run_here, project, lead):
    from deployments.runs import services as runs

    run = run_here(project, lead, "0.1.0", execute=False)
    return runs.run_claim(run_id=run.pk, worker="test-host")


def test_the_watchdog_survives_a_database_error(run_here, upload, project, lead, settings, monkeypatch, tmp_path):
    import threading
    from datetime import timedelta

    from django.utils import timezone

    from deployments.runs.models import Run
    from tests.deployments.conftest import wait_for

    upload(project, lead, "0.1.0")
    run = _claimed(run_here, project, lead)
    old = timezone.now() - timedelta(minutes=5)
    Run.objects.filter(pk=run.pk).update(heartbeat_at=old)
    real_now, failed = timezone.now, []

    def now():  # the watchdog's first database write fails, as when PostgreSQL restarts
        if threading.current_thread().name.endswith("-watchdog") and not failed:
            failed.append(True)
            raise OperationalError("server closed the connection unexpectedly")
        return real_now()

    monkeypatch.setattr(timezone, "now", now)
    watchdog = executor.Watchdog(executor.RunState(run=run, log=RunLog(run), workspace=tmp_path))
    watchdog.start()
    try:
        wait_for(lambda: failed, timeout=10, message="the injected database error")
        wait_for(
            lambda: Run.objects.get(pk=run.pk).heartbeat_at > old, timeout=10, message="a heartbeat after the error"
        )
        Run.objects.filter(pk=run.pk).update(cancel_requested_at=real_now())
        wait_for(lambda: watchdog.state.stop_reason, timeout=10, message="the cancel request to be seen")
        assert watchdog.is_alive()
    finally:
        watchdog.finished.set()
        watchdog.join(10)


def test_a_run_reaped_while_its_worker_still_runs_terraform_stops_it(
    run_here, upload, project, lead, settings, spawned
):
    import threading
    import time

    from deployments.runs import services as runs
    from deployments.runs.models import Run
    from tests.deployments.conftest import wait_for

    settings.LOCALCLOUD_LATENCY_MS = 8000  # dataset, then its tables: the apply takes 16 s
    settings.RUN_CANCEL_GRACE = 5
    upload(project, lead, "0.1.0", tables=["a", "b"])
    run = run_here(project, lead, "0.1.0", execute=False)
    worker = threading.Thread(target=executor.run_execute, kwargs={"run_id": run.pk, "worker": "test-host"})
    worker.start()
    try:
        wait_for(
            lambda: Run.objects.get(pk=run.pk).log_lines.filter(type="apply_start").exists(),
            timeout=120,
            message="the apply to start changing resources",
        )
        # What the reaper does when the heartbeat is late (a partitioned worker): fail it, free the slot.
        runs.run_finish(run=Run.objects.get(pk=run.pk), status=RunStatus.FAILED, error="The worker stopped responding.")
        reaped = time.monotonic()
        wait_for(lambda: not process_group_alive(spawned[-1]), timeout=20, message="Terraform to be stopped")
        assert time.monotonic() - reaped < 10  # a tick, then SIGINT and SIGKILL after the grace
    finally:
        worker.join(60)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.error == "The worker stopped responding."
    assert run.log_lines.filter(message__contains="This run was ended outside this worker").exists()


def test_a_run_whose_workspace_cannot_be_made_fails_and_frees_its_slot(
    run_here, upload, project, lead, settings, tmp_path
):
    from deployments.runs.models import Deployment

    upload(project, lead, "0.1.0")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.RUN_WORKSPACE_DIR = blocker / "runs"
    run = run_here(project, lead, "0.1.0")
    assert run.status == RunStatus.FAILED
    assert "could not create this run's workspace" in run.error
    assert Deployment.objects.get(pk=run.deployment_id).active_run_id is None


def test_database_writes_are_retried_through_a_short_outage(run_here, upload, project, lead, settings, monkeypatch):
    from django.db import InterfaceError
    from django.db.models import QuerySet

    from deployments.runs import services as runs

    upload(project, lead, "0.1.0")
    real_bulk_create, real_transition = QuerySet.bulk_create, runs.run_transition
    failures = {"lines": 0, "status": 0}

    def bulk_create(self, objs, *args, **kwargs):
        if self.model.__name__ == "LogLine" and failures["lines"] < 2:
            failures["lines"] += 1  # the first two inserts after the run starts find the database gone
            raise OperationalError("terminating connection due to administrator command")
        return real_bulk_create(self, objs, *args, **kwargs)

    def run_transition(*, run, status, **kwargs):
        if status == RunStatus.APPLYING and not failures["status"]:
            failures["status"] += 1
            raise InterfaceError("connection already closed")
        return real_transition(run=run, status=status, **kwargs)

    monkeypatch.setattr(QuerySet, "bulk_create", bulk_create)
    monkeypatch.setattr(runs, "run_transition", run_transition)
    run = run_here(project, lead, "0.1.0")
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert failures == {"lines": 2, "status": 1}
    seqs = list(run.log_lines.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert [t.status for t in run.transitions.all()][-4:] == ["planned", "confirmed", "applying", "succeeded"]


def test_a_review_failing_beside_the_apply_is_said_and_does_not_fail_the_applied_run(
    run_here, upload, project, lead, monkeypatch
):
    from deployments.runs.models import LogLine

    upload(project, lead, "0.1.0", tables=["a"])

    def broken_review(*args, **kwargs):
        raise RuntimeError("the review broke")

    monkeypatch.setattr(executor, "_describe_plan", broken_review)
    run = run_here(project, lead, "0.1.0")  # dev applies automatically: the review runs beside the apply
    assert run.status == RunStatus.SUCCEEDED, run.error
    warnings = LogLine.objects.filter(run=run, level="warn").values_list("message", flat=True)
    assert "The plan was applied, but Hangar could not read it for review: the review broke" in list(warnings)
