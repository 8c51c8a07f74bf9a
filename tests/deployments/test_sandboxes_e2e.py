"""Sandboxes end to end: a real Celery worker (with beat) runs real Terraform against the local cloud."""

import os
import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from deployments.runs.choices import RunStatus
from deployments.runs.models import Run
from deployments.runs.services import run_start
from deployments.sandboxes import services
from deployments.sandboxes.models import Sandbox
from deployments.state.models import StateVersion
from tests.deployments.conftest import wait_for
from tests.deployments.helpers import localcloud_resources, names_by_type, wait_finished
from tokens.services import create_personal_token

pytestmark = [pytest.mark.worker, pytest.mark.terraform, pytest.mark.django_db(transaction=True)]


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def wait_sandbox(sandbox_id: int, condition, *, timeout: float = 240, what: str = "the sandbox") -> Sandbox:
    def check():
        sandbox = Sandbox.objects.select_related("environment", "create_run", "destroy_run").get(pk=sandbox_id)
        return sandbox if condition(sandbox) else None

    return wait_for(check, timeout=timeout, message=what)


def test_create_use_and_destroy_through_the_api(start_worker, upload, project, lead, member, localcloud):
    start_worker()
    upload(project, lead, "0.1.0")  # tables protected, as by default
    # dev runs the same version: the sandbox must land beside it, not on it.
    dev = wait_finished(
        run_start(project=project, environment="dev", target="local", version="0.1.0", operation="apply", user=lead)
    )
    assert dev.status == RunStatus.SUCCEEDED, dev.error
    dev_resources = localcloud_resources(localcloud, "sc-123-example-dev")

    api = api_for(member)
    base = f"/api/projects/{project.slug}/sandboxes/"
    created = api.post(base, {"version": "0.1.0", "base_environment": "dev", "ttl_hours": 5}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    project_id = body["gcp_project_id"]
    assert project_id == f"sc-123-example-sbx{body['id']}" and body["name"] == f"sbx-{body['id']}"
    run = wait_finished(Run.objects.get(pk=body["run"]))
    assert run.status == RunStatus.SUCCEEDED, run.error
    # Applied at once, in the sandbox's own project, with a token for that project only.
    assert "applied automatically" in run.transitions.get(status="confirmed").note
    assert run.log_lines.filter(message__contains=f"may change {project_id} only").exists()
    assert names_by_type(localcloud_resources(localcloud, project_id)) == names_by_type(dev_resources)
    assert localcloud_resources(localcloud, "sc-123-example-dev") == dev_resources

    sandbox = api.get(f"{base}{body['id']}/").json()
    assert sandbox["status"] == "ready" and sandbox["owner"] == "bob" and sandbox["version"] == "0.1.0"
    # Its outputs name its own project's resources: what a CI check runs against.
    outputs = sandbox["outputs"]
    assert outputs["dataset_example_reports"]["id"] == f"projects/{project_id}/datasets/example_reports"
    assert project_id in outputs["table_example_reports--summary"]["id"]

    # Drift checks cover a live sandbox: read-only, through the same override of local.project_id.
    check_url = f"/api/projects/{project.slug}/deployments/{body['name']}/local/check/"

    def check_now() -> dict:
        started = api.post(check_url)
        assert started.status_code == 202, started.content

        def done():
            found = api.get(f"/api/drift-checks/{started.json()['id']}/").json()
            return found if found["status"] in ("finished", "skipped") else None

        return wait_for(done, timeout=120, message="the sandbox's drift check")

    assert check_now()["outcome"] == "in_sync"
    localcloud.client().set_labels(project_id, "dataset", "example_reports", {"owner": "elsewhere"})
    drifted = check_now()
    assert drifted["outcome"] == "drifted", drifted
    assert [r["dsl"] for r in drifted["resources"]] == [{"kind": "dataset", "name": "example_reports"}]

    destroyed = api.delete(f"{base}{body['id']}/")
    assert destroyed.status_code == 202 and destroyed.json()["status"] == "destroying"
    destroy = wait_finished(Run.objects.get(pk=destroyed.json()["run"]))
    assert destroy.status == RunStatus.SUCCEEDED, destroy.error
    # Never waited for a person: pressing Destroy was the confirmation.
    assert not destroy.needs_confirmation and destroy.confirm_destroy
    final = wait_sandbox(body["id"], lambda s: s.destroyed_at is not None, what="the sandbox to be destroyed")
    assert api.get(f"{base}{body['id']}/").json()["status"] == "destroyed"
    assert localcloud_resources(localcloud, project_id) == []
    assert localcloud_resources(localcloud, "sc-123-example-dev") == dev_resources  # dev untouched
    # The history stays: the row, its runs and logs, and its state versions.
    deployment = final.environment.deployments.get()
    assert set(deployment.runs.values_list("pk", flat=True)) == {run.pk, destroy.pk}
    assert run.log_lines.exists() and destroy.log_lines.exists()
    assert StateVersion.objects.filter(deployment=deployment).count() >= 2
    assert api.delete(f"{base}{body['id']}/").status_code == 409


def test_expiry_destroys_it_by_itself(start_worker, worker_env, upload, project, lead, localcloud):
    worker_env.update(SANDBOX_SWEEP_INTERVAL="1")
    start_worker(beat=True)
    upload(project, lead, "0.1.0")
    sandbox = services.sandbox_create(project=project, version="0.1.0", user=lead, ttl_hours=30 / 3600)
    created = wait_finished(sandbox.create_run)
    assert created.status == RunStatus.SUCCEEDED, created.error
    assert localcloud_resources(localcloud, sandbox.gcp_project_id)
    done = wait_sandbox(sandbox.pk, lambda s: s.destroyed_at is not None, what="the expired sandbox to be destroyed")
    destroy = done.destroy_run
    assert destroy.status == RunStatus.SUCCEEDED and destroy.requested_by is None
    assert "expired" in destroy.transitions.order_by("id").first().note
    assert localcloud_resources(localcloud, sandbox.gcp_project_id) == []


def test_a_failed_destroy_is_shown_and_retried(start_worker, upload, project, lead, admin_user, localcloud, client_for):
    start_worker()
    upload(project, lead, "0.1.0")
    sandbox = services.sandbox_create(project=project, version="0.1.0", user=lead, ttl_hours=5)
    assert wait_finished(sandbox.create_run).status == RunStatus.SUCCEEDED
    # Someone made a table in the sandbox's dataset by hand: Terraform does not manage it, and the cloud
    # refuses to delete a dataset that still holds a table.
    cloud = localcloud.client()
    schema = [{"name": "x", "type": "STRING", "mode": "NULLABLE"}]
    cloud.create_table(
        sandbox.gcp_project_id, "example_reports", "manual", {"schema": schema, "deletion_protection": False}
    )
    api = api_for(lead)
    first = api.delete(f"/api/projects/{project.slug}/sandboxes/{sandbox.pk}/")
    assert first.status_code == 202
    failed = wait_finished(Run.objects.get(pk=first.json()["run"]))
    assert failed.status == RunStatus.FAILED and "still contains tables" in failed.error
    sandbox = wait_sandbox(sandbox.pk, lambda s: s.destroy_failed, what="the destroy to be recorded as failed")
    assert sandbox.destroyed_at is None and sandbox.next_destroy_at > timezone.now()
    assert "still contains tables" in sandbox.destroy_error
    # Shown: the API, the project's Sandboxes tab and the Operations page.
    assert api.get(f"/api/projects/{project.slug}/sandboxes/{sandbox.pk}/").json()["status"] == "destroy_failed"
    tab = client_for(lead).get(f"/projects/{project.slug}/sandboxes/").content.decode()
    assert "Destroy failed" in tab and "tries again at" in tab
    operations = client_for(admin_user).get("/operations/").content.decode()
    assert "Sandboxes whose destroy failed" in operations and sandbox.gcp_project_id in operations
    # The sweep does not retry before the backoff is over; then it does, and once the hand-made table
    # is gone the retry destroys everything.
    assert services.sandbox_sweep()["retried"] == []
    cloud.delete_table(sandbox.gcp_project_id, "example_reports", "manual")
    assert services.sandbox_sweep(now=sandbox.next_destroy_at + timedelta(seconds=1))["retried"] == [sandbox.pk]
    done = wait_sandbox(sandbox.pk, lambda s: s.destroyed_at is not None, what="the retried destroy")
    assert done.destroy_attempts == 2 and not done.destroy_failed
    assert localcloud_resources(localcloud, sandbox.gcp_project_id) == []
    assert "Every sandbox destroy went through" in client_for(admin_user).get("/operations/").content.decode()


def documented_ci_job() -> str:
    """The CI job of docs/sandboxes.md, as written there."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "sandboxes.md").read_text()
    return re.search(r"```sh\n(#!/bin/sh.*?)```", text, re.S).group(1)


@pytest.mark.parametrize("check_passes", [True, False])
def test_the_documented_ci_job(check_passes, start_worker, upload, project, member, live_server, localcloud, tmp_path):
    start_worker()
    upload(project, member, "0.1.0")
    job = tmp_path / "job"
    job.mkdir()
    (job / "ci.sh").write_text(documented_ci_job())
    check = job / "run-integration-check"  # the team's own check: here it reads the outputs and passes or fails
    check.write_text(f'#!/bin/sh\ngrep -q example_reports "$2" && exit {0 if check_passes else 3}\n')
    check.chmod(0o755)
    env = {
        "PATH": os.environ["PATH"],
        "HANGAR": live_server.url,
        "HANGAR_TOKEN": create_personal_token(user=member, name="ci job", by=member)[1],
        "PROJECT": project.slug,
        "VERSION": "0.1.0",
    }
    result = subprocess.run(["sh", "ci.sh"], cwd=job, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == (0 if check_passes else 1), result.stdout + result.stderr
    sandbox = Sandbox.objects.get()
    assert f"sandbox {sandbox.name} in {sandbox.gcp_project_id}" in result.stdout
    assert "sandbox destroyed" in result.stdout, result.stdout + result.stderr
    assert ("check failed" in result.stderr) is not check_passes
    # Destroyed either way, and nothing of it is left in the local cloud.
    assert sandbox.destroyed_at is not None and sandbox.create_run.status == RunStatus.SUCCEEDED
    assert localcloud_resources(localcloud, sandbox.gcp_project_id) == []
