"""Saved plans through the real executor and real Terraform (in this process, no Celery): what is
stored, what ends without a person, what waits, and what a confirmed run applies."""

import pytest

from deployments.plans.models import SavedPlan
from deployments.runs import executor
from deployments.runs import services as runs
from deployments.runs.choices import RunStatus
from deployments.runs.models import Deployment, Run
from tests.deployments.helpers import localcloud_resources, names_by_type

pytestmark = [pytest.mark.terraform, pytest.mark.django_db(transaction=True)]


def tables(localcloud, project_id="sc-123-example-dev") -> set[str]:
    return names_by_type(localcloud_resources(localcloud, project_id)).get("table", set())


def execute(run: Run) -> Run:
    executor.run_execute(run_id=run.pk, worker="test-host")
    run.refresh_from_db()
    return run


def test_a_plan_only_run_keeps_its_plan_and_changes_nothing(run_here, upload, project, lead, localcloud):
    upload(project, lead, "0.1.0")
    run = run_here(project, lead, "0.1.0", operation="plan")
    assert run.status == RunStatus.SUCCEEDED, run.error
    saved = SavedPlan.objects.get(run=run)
    assert saved.has_changes and not saved.destroys and saved.size == len(bytes(saved.data)) > 0
    assert saved.plan_json["format_version"] and saved.plan_json["resource_changes"]
    assert run.to_add >= 3 and "confirmed" not in [t.status for t in run.transitions.all()]
    assert localcloud_resources(localcloud, "sc-123-example-dev") == []
    assert Deployment.objects.get(pk=run.deployment_id).deployed_run is None


def test_no_changes_ends_at_once_and_counts_as_deployed(run_here, upload, project, lead):
    upload(project, lead, "0.1.0")
    first = run_here(project, lead, "0.1.0")
    assert first.status == RunStatus.SUCCEEDED, first.error
    again = run_here(project, lead, "0.1.0")
    assert again.status == RunStatus.SUCCEEDED, again.error
    assert not again.saved_plan.has_changes
    assert [t.status for t in again.transitions.all()] == ["queued", "planning", "planned", "succeeded"]
    assert again.transitions.get(status="planned").note == "No changes"
    assert again.outputs == first.outputs and again.outputs
    assert Deployment.objects.get(pk=again.deployment_id).deployed_run == again


def test_prod_waits_and_a_confirmed_run_applies_exactly_the_stored_plan(run_here, upload, project, lead, localcloud):
    upload(project, lead, "0.1.0")
    run = run_here(project, lead, "0.1.0", environment="prod")
    assert run.awaiting_confirmation, run.error
    assert "prod does not apply automatically" in run.transitions.last().note
    assert localcloud_resources(localcloud, "sc-123-example-prod") == []  # nothing changed yet
    assert run.state_credential == "" and run.heartbeat_at is None
    runs.run_confirm(run=run, user=lead)
    run = execute(run)
    assert run.status == RunStatus.SUCCEEDED, run.error
    sha = run.saved_plan.sha256
    assert run.log_lines.filter(message=f"Applying the saved plan (SHA-256 {sha[:12]}…).").exists()
    assert tables(localcloud, "sc-123-example-prod") == {"example_reports.summary"}
    assert Deployment.objects.get(pk=run.deployment_id).deployed_run == run


def test_a_saved_plan_that_no_longer_matches_its_digest_is_not_applied(run_here, upload, project, lead, localcloud):
    upload(project, lead, "0.1.0")
    run = run_here(project, lead, "0.1.0", environment="prod")
    assert run.awaiting_confirmation, run.error
    runs.run_confirm(run=run, user=lead)
    SavedPlan.objects.filter(run=run).update(data=b"a different plan")  # storage corrupted or tampered with
    run = execute(run)
    assert run.status == RunStatus.FAILED
    assert "does not match the saved plan's SHA-256" in run.error
    assert localcloud_resources(localcloud, "sc-123-example-prod") == []


def test_removing_a_protected_table_fails_at_plan_time(run_here, upload, project, lead, localcloud):
    upload(project, lead, "0.1.0", tables=["summary", "details"])
    upload(project, lead, "0.2.0", tables=["summary"])
    assert run_here(project, lead, "0.1.0").status == RunStatus.SUCCEEDED
    run = run_here(project, lead, "0.2.0")
    assert run.status == RunStatus.FAILED
    assert "The plan would delete protected tables, so nothing was applied" in run.error
    assert "deletion_protection: false" in run.error
    assert "confirmed" not in [t.status for t in run.transitions.all()]
    assert tables(localcloud) == {"example_reports.summary", "example_reports.details"}
