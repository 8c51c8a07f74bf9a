"""A worker killed mid-apply: the run fails with a clear reason, the queue moves on."""

import time

import pytest
from django.utils import timezone

from deployments.runs.choices import RunStatus
from deployments.runs.models import Run
from deployments.runs.services import run_start
from tests.deployments.conftest import wait_for
from tests.deployments.helpers import assert_recovered, terraform_processes_using, wait_finished

pytestmark = [pytest.mark.worker, pytest.mark.terraform, pytest.mark.django_db(transaction=True)]


@pytest.mark.chaos
def test_a_killed_worker_fails_its_run_and_the_next_run_proceeds(
    start_worker, worker_env, upload, project, lead, tmp_path
):
    # Each change takes a while in the local cloud, so the worker can be lost mid-apply.
    worker_env["LOCALCLOUD_LATENCY_MS"] = "1500"
    doomed = start_worker()
    upload(project, lead, "0.1.0", tables=["a", "b", "c"])
    running = run_start(
        project=project, environment="dev", target="local", version="0.1.0", operation="apply", user=lead
    )
    queued = run_start(project=project, environment="dev", target="local", version="0.1.0", operation="plan", user=lead)

    def applying():
        running.refresh_from_db()
        return running.status == RunStatus.APPLYING and running.log_lines.filter(type="apply_start").exists()

    wait_for(applying, timeout=120, message="the first run to be applying")
    doomed.kill()
    killed_at = timezone.now()
    # Terraform dies with the worker (parent-death signal), before any reaper runs.
    wait_for(
        lambda: not terraform_processes_using(str(tmp_path / "runs")), timeout=15, message="Terraform to die with it"
    )
    assert Run.objects.get(pk=running.pk).status == RunStatus.APPLYING

    worker_env["LOCALCLOUD_LATENCY_MS"] = "0"
    start_worker(beat=True)  # its beat runs the reaper every RUN_REAPER_INTERVAL seconds
    wait_finished(running, timeout=60)
    assert running.status == RunStatus.FAILED
    assert "stopped responding" in running.error and "deploy again" in running.error
    assert (running.finished_at - killed_at).total_seconds() < 30  # heartbeat timeout 6 s + reaper every 2 s

    wait_finished(queued, timeout=120)
    assert queued.status == RunStatus.SUCCEEDED, queued.error
    assert queued.started_at > running.finished_at
    # The state lock the killed Terraform held was released, so the plan could run.
    running.deployment.refresh_from_db()
    assert running.deployment.lock_id == ""
    # kill -9 of the worker's group: Terraform died with it (parent-death signal), nothing is left running.
    assert terraform_processes_using(str(tmp_path / "runs")) == []
    assert_recovered(running.deployment, workspace_dir=tmp_path / "runs")


def test_cancel_interrupts_terraform_gracefully(start_worker, worker_env, upload, project, lead):
    worker_env["LOCALCLOUD_LATENCY_MS"] = "1500"
    start_worker()
    upload(project, lead, "0.1.0", tables=["a", "b", "c"])
    run = run_start(project=project, environment="dev", target="local", version="0.1.0", operation="apply", user=lead)

    def applying():
        run.refresh_from_db()
        return run.status == RunStatus.APPLYING

    wait_for(applying, timeout=120, message="the run to be applying")
    from deployments.runs.services import run_cancel

    started = time.monotonic()
    run_cancel(run=run, user=lead)
    wait_finished(run, timeout=60)
    assert run.status == RunStatus.CANCELLED and "Cancelled on request" in run.error
    assert time.monotonic() - started < 30
    assert (
        run.log_lines.filter(message__icontains="interrupt").exists()
        or run.log_lines.filter(message__icontains="Cancelled on request").exists()
    )
    run.deployment.refresh_from_db()
    assert run.deployment.lock_id == "" and run.deployment.active_run_id is None
    # What Terraform created before it stopped is in the state: the next apply continues from it.
    again = run_start(project=project, environment="dev", target="local", version="0.1.0", operation="apply", user=lead)
    wait_finished(again, timeout=120)
    assert again.status == RunStatus.SUCCEEDED, again.error
