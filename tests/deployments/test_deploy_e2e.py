"""End to end: a real Celery worker on Redis runs real Terraform against the local cloud."""

import pytest
from rest_framework.test import APIClient

from deployments.runs.choices import RunStatus
from deployments.runs.services import run_start
from tests.deployments.helpers import localcloud_resources, names_by_type, wait_finished, wait_planned

pytestmark = [pytest.mark.worker, pytest.mark.terraform, pytest.mark.django_db(transaction=True)]


def deploy(project, user, version, operation="apply", environment="dev"):
    return run_start(
        project=project, environment=environment, target="local", version=version, operation=operation, user=user
    )


def tables(localcloud, project_id="sc-123-example-dev") -> set[str]:
    return names_by_type(localcloud_resources(localcloud, project_id)).get("table", set())


def test_deploy_roll_back_and_destroy(start_worker, upload, project, lead, localcloud, tmp_path):
    start_worker()
    # The rollback drops a table and the destroy drops them all: unprotected on purpose.
    upload(project, lead, "0.1.0", tables=["summary"], deletion_protection=False)
    upload(project, lead, "0.2.0", tables=["summary", "details"], deletion_protection=False)

    first = wait_finished(deploy(project, lead, "0.1.0"))
    assert first.status == RunStatus.SUCCEEDED, first.error
    assert first.to_add and first.to_add >= 3 and first.terraform_version.startswith("Terraform v1.0.3")
    # dev applies automatically: the saved plan destroys nothing, so it is confirmed and applied at once.
    statuses = ["queued", "planning", "planned", "confirmed", "applying", "succeeded"]
    assert [t.status for t in first.transitions.all()] == statuses
    assert "applied automatically" in first.transitions.get(status="confirmed").note
    # Its review was read from `terraform show -json` while the plan was being applied.
    assert first.saved_plan.has_changes and not first.saved_plan.destroys
    assert {c["type"] for c in first.saved_plan.plan_json["resource_changes"]} >= {"localcloud_table"}
    assert first.log_lines.filter(type="apply_complete").exists()
    assert all(r["state"] == "done" for r in first.resources)
    assert tables(localcloud) == {"example_reports.summary"}

    api = APIClient()
    api.force_authenticate(lead)
    [row] = [r for r in api.get(f"/api/projects/{project.slug}/deployments/").json() if r["environment"] == "dev"]
    assert (row["deployed_version"], row["status"], row["deployed_by"]) == ("0.1.0", "succeeded", "alice")
    assert row["deployed_at"]

    second = wait_finished(deploy(project, lead, "0.2.0"))
    assert second.status == RunStatus.SUCCEEDED, second.error
    assert tables(localcloud) == {"example_reports.summary", "example_reports.details"}

    # The rollback drops a table: even in dev its plan waits for a person, and nothing changes meanwhile.
    rollback = wait_planned(deploy(project, lead, "0.1.0"))
    assert rollback.awaiting_confirmation and rollback.to_destroy == 1, rollback.error
    assert tables(localcloud) == {"example_reports.summary", "example_reports.details"}
    plan = api.get(f"/api/runs/{rollback.pk}/").json()
    assert plan["needs_confirmation"] and plan["awaiting_confirmation"]
    [dropped] = [c for c in plan["plan"]["resource_changes"] if c["action"] == "delete"]
    assert dropped["dsl"] == {"kind": "table", "name": "example_reports.details"}
    response = api.post(f"/api/runs/{rollback.pk}/confirm/")
    assert response.status_code == 202, response.json()
    rollback = wait_finished(rollback)
    assert rollback.status == RunStatus.SUCCEEDED, rollback.error
    assert rollback.log_lines.filter(message__startswith="Applying the saved plan").exists()
    assert [t.status for t in rollback.transitions.all()][-4:] == ["planned", "confirmed", "applying", "succeeded"]
    assert tables(localcloud) == {"example_reports.summary"}

    # A pipeline that means it confirms the destruction up front.
    destroy = wait_finished(
        run_start(project=project, environment="dev", target="local", version="0.1.0", operation="destroy",
                  user=lead, confirm_destroy=True)
    )  # fmt: skip
    assert destroy.status == RunStatus.SUCCEEDED, destroy.error
    assert localcloud_resources(localcloud, "sc-123-example-dev") == []
    row = api.get(f"/api/projects/{project.slug}/deployments/").json()[0]
    assert row["deployed_version"] is None and row["status"] == "succeeded"
    # The workspace is gone: nothing of the run is left on the worker's disk.
    assert not list((tmp_path / "runs").glob("run-*"))


def test_deploys_on_one_environment_run_one_after_the_other(start_worker, upload, project, lead):
    start_worker(concurrency=2)
    upload(project, lead, "0.1.0")
    runs = [deploy(project, lead, "0.1.0"), deploy(project, lead, "0.1.0", operation="plan")]
    for run in runs:
        wait_finished(run)
    assert [run.status for run in runs] == ["succeeded", "succeeded"]
    assert runs[1].started_at >= runs[0].finished_at


def test_deploys_on_two_environments_run_in_parallel(start_worker, upload, project, lead):
    start_worker(concurrency=2)
    upload(project, lead, "0.1.0")
    runs = [deploy(project, lead, "0.1.0", environment=env) for env in ("dev", "test")]
    for run in runs:
        wait_finished(run)
    assert [run.status for run in runs] == ["succeeded", "succeeded"]
    # Each started before the other finished.
    assert runs[0].started_at < runs[1].finished_at and runs[1].started_at < runs[0].finished_at
