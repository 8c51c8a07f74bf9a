"""Accept reality (operation `refresh`): `terraform apply -refresh-only` of the deployed version, so the
state takes what was changed outside Terraform. Who may ask for it and for which version, and end to end
with real Terraform and the local cloud: the state takes a label changed outside, the next plan shows
it would change it back, and the deployments table still says who deployed what."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from deployments.plans.readable import readable_plan
from deployments.plans.services import plan_has_changes
from deployments.runs import executor
from deployments.runs import services as runs
from deployments.runs.choices import Operation, RunStatus
from deployments.runs.models import Deployment, Run
from deployments.state.services import state_current
from portal.models import AuditEvent
from tests.localcloud_fixtures import localcloud_cli

DEV_PROJECT = "sc-123-example-dev"
DATASET = "module.dataset_example_reports.localcloud_dataset.this"


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def start(project, user, version="0.1.0", operation=Operation.REFRESH, environment="dev"):
    return runs.run_start(
        project=project, environment=environment, target="local", version=version, operation=operation, user=user
    )


def deployed(project, user, version="0.1.0", environment="dev") -> Run:
    """A successful apply of `version`, as a worker would end it (no Terraform)."""
    run = start(project, user, version, Operation.APPLY, environment)
    runs.run_dispatch(deployment_id=run.deployment_id)
    runs.run_finish(run=runs.run_claim(run_id=run.pk, worker="w"), status=RunStatus.SUCCEEDED)
    return run


# -- who may ask, and for which version (no worker) ----------------------------------------------


@pytest.fixture
def versions(upload, project, lead):
    return upload(project, lead, "0.1.0"), upload(project, lead, "0.2.0")


@pytest.mark.django_db
def test_only_a_lead_of_the_team_or_an_admin_may_accept_reality(
    project, lead, member, viewer, outsider, admin_user, versions
):
    deployed(project, member)
    with pytest.raises(PermissionDenied, match="Only a lead of Data Engine can accept reality"):
        start(project, member)
    for user in (viewer, outsider):
        with pytest.raises(PermissionDenied, match="Only members of Data Engine"):
            start(project, user)
    assert not Run.objects.filter(operation=Operation.REFRESH).exists()
    run = start(project, lead)
    assert run.operation == Operation.REFRESH and run.status == RunStatus.QUEUED
    assert AuditEvent.objects.filter(action="run.refresh", actor=lead, object_id=str(run.pk)).exists()
    assert start(project, admin_user).operation == Operation.REFRESH


@pytest.mark.django_db
def test_only_the_deployed_version_and_only_where_something_is_deployed(project, lead, versions):
    with pytest.raises(ValidationError) as nothing:
        start(project, lead)
    assert nothing.value.message_dict["version"] == [
        "Nothing is deployed on dev / local: there is no reality to accept. Deploy a version first."
    ]
    deployed(project, lead, "0.1.0")
    with pytest.raises(ValidationError) as other:
        start(project, lead, "0.2.0")
    assert other.value.message_dict["version"] == [
        "Accept reality works on the deployed version only: dev / local runs 0.1.0, not 0.2.0."
    ]
    with pytest.raises(ValidationError, match="Nothing is deployed on test / local"):
        start(project, lead, environment="test")  # each environment has its own deployed version
    destroy = start(project, lead, operation=Operation.DESTROY)
    runs.run_dispatch(deployment_id=destroy.deployment_id)
    runs.run_finish(run=runs.run_claim(run_id=destroy.pk, worker="w"), status=RunStatus.SUCCEEDED)
    with pytest.raises(ValidationError, match="Nothing is deployed on dev / local"):
        start(project, lead)


@pytest.mark.django_db
def test_a_refresh_follows_the_environment_and_production_approval_like_an_apply(project, lead, versions):
    project.prod_requires_approval = True
    project.save(update_fields=["prod_requires_approval"])
    deployed(project, lead, environment="dev")
    deployed(project, lead, environment="prod")
    dev = start(project, lead)
    assert dev.auto_apply and not dev.approval_required and not dev.confirm_destroy
    prod = start(project, lead, environment="prod")
    assert prod.approval_required and not prod.auto_apply


@pytest.mark.django_db
def test_a_successful_refresh_leaves_the_deployed_version_and_who_deployed_it(project, lead, member, versions):
    apply = deployed(project, member)
    refresh = start(project, lead)
    runs.run_dispatch(deployment_id=refresh.deployment_id)
    runs.run_finish(run=runs.run_claim(run_id=refresh.pk, worker="w"), status=RunStatus.SUCCEEDED)
    deployment = Deployment.objects.get(pk=refresh.deployment_id)
    assert deployment.deployed_run_id == apply.pk and deployment.deployed_artifact.version == "0.1.0"
    assert deployment.last_run_id == refresh.pk


@pytest.mark.django_db
def test_the_api_takes_refresh_with_the_same_rules(project, lead, member, viewer, outsider, versions):
    body = {
        "project": project.slug,
        "environment": "dev",
        "target": "local",
        "version": "0.1.0",
        "operation": "refresh",
    }
    response = api_as(lead).post("/api/runs/", body, format="json")
    assert response.status_code == 400
    assert "Nothing is deployed on dev / local" in json.dumps(response.json())
    deployed(project, lead)
    assert api_as(member).post("/api/runs/", body, format="json").status_code == 403
    assert api_as(viewer).post("/api/runs/", body, format="json").status_code == 403
    hidden = api_as(outsider).post("/api/runs/", body, format="json")
    assert hidden.status_code == 400 and "No project" in json.dumps(hidden.json())  # as for any operation
    other = api_as(lead).post("/api/runs/", {**body, "version": "0.2.0"}, format="json")
    assert other.status_code == 400
    assert other.json()["version"] == [
        "Accept reality works on the deployed version only: dev / local runs 0.1.0, not 0.2.0."
    ]
    response = api_as(lead).post("/api/runs/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["operation"] == "refresh" and response.json()["status"] == "queued"


@pytest.mark.django_db
def test_pages_offer_accept_reality_to_leads_only(project, lead, member, viewer, outsider, versions, client_for):
    history = reverse("deployment_history", args=[project.slug, "dev", "local"])
    action = reverse("deployment_accept_reality", args=[project.slug, "dev", "local"])
    deploy_tab = reverse("project_deploy", args=[project.slug])
    page = client_for(lead).get(history).text
    assert action not in page  # nothing deployed yet: nothing to accept
    deployed(project, member)
    page = client_for(lead).get(history).text
    assert action in page and "Accept reality (0.1.0)" in page
    assert "the state takes what is really there" in page
    assert 'value="refresh"' in client_for(lead).get(deploy_tab).text
    for user in (member, viewer):
        client = client_for(user)
        assert action not in client.get(history).text
        assert 'value="refresh"' not in client.get(deploy_tab).text
    refused = client_for(member).post(action, {"version": "0.1.0"}, follow=True)
    assert "Only a lead of Data Engine can accept reality" in refused.text
    assert client_for(outsider).post(action, {"version": "0.1.0"}).status_code == 404
    wrong = client_for(lead).post(action, {"version": "0.2.0"}, follow=True)
    assert "dev / local runs 0.1.0, not 0.2.0" in wrong.text
    assert not Run.objects.filter(operation=Operation.REFRESH).exists()
    response = client_for(lead).post(action, {"version": "0.1.0"})
    run = Run.objects.get(operation=Operation.REFRESH)
    assert response.status_code == 302 and response.url == run.get_absolute_url()
    on_deploy_tab = client_for(lead).post(
        deploy_tab, {"environment": "dev", "target": "local", "version": "0.2.0", "operation": "refresh"}, follow=True
    )
    assert "dev / local runs 0.1.0, not 0.2.0" in on_deploy_tab.text


def test_a_refresh_plan_has_changes_when_something_drifted():
    drift = {
        "address": DATASET,
        "module_address": "module.dataset_example_reports",
        "type": "localcloud_dataset",
        "change": {"actions": ["update"], "before": {"labels": {"a": "1"}}, "after": {"labels": {"a": "2"}}},
    }
    plan = {"format_version": "0.2", "resource_drift": [drift], "resource_changes": []}
    assert plan_has_changes(plan, refresh_only=True) and not plan_has_changes(plan)
    assert not plan_has_changes({"resource_drift": [], "resource_changes": []}, refresh_only=True)
    readable = readable_plan(plan, refresh_only=True)
    assert readable.has_changes and readable.refresh_only and not readable.warnings
    assert readable.headline == "1 resource changed outside Hangar: the state takes what is there"
    assert not readable_plan(plan).has_changes  # an ordinary plan with only drift changes nothing


# -- end to end: real Terraform, the local cloud, the executor in this process --------------------


def execute(run: Run) -> Run:
    executor.run_execute(run_id=run.pk, worker="test-host")
    run.refresh_from_db()
    return run


def dataset_labels_in_state(deployment_id: int) -> dict:
    state = json.loads(bytes(state_current(deployment_id=deployment_id).data))
    for resource in state["resources"]:
        if resource["type"] == "localcloud_dataset" and resource.get("module") == "module.dataset_example_reports":
            return resource["instances"][0]["attributes"]["labels"]
    raise AssertionError("the state holds no dataset example_reports")


def set_label(localcloud, project_id: str, *pairs: str) -> None:
    changed = localcloud_cli(
        "--url", localcloud.url, "set-label", "--project", project_id, "dataset", "example_reports", *pairs
    )
    assert isinstance(changed, dict), getattr(changed, "stderr", changed)


def deployment_row(client, project, environment="dev") -> dict:
    rows = client.get(f"/api/projects/{project.slug}/deployments/").json()
    rows = rows.get("results", rows) if isinstance(rows, dict) else rows
    return next(row for row in rows if row["environment"] == environment and row["target"] == "local")


@pytest.mark.terraform
@pytest.mark.django_db(transaction=True)
def test_accept_reality_takes_a_label_changed_outside_and_the_next_plan_puts_it_back(
    run_here, upload, project, lead, member, localcloud, client_for
):
    upload(project, lead, "0.1.0")
    apply = run_here(project, member, "0.1.0")
    assert apply.status == RunStatus.SUCCEEDED, apply.error
    deployment_id = apply.deployment_id
    assert "owner" not in dataset_labels_in_state(deployment_id)
    before = deployment_row(api_as(lead), project)
    assert before["deployed_by"] == member.username and before["deployed_version"] == "0.1.0"

    set_label(localcloud, DEV_PROJECT, "owner=someone-else")
    refresh = run_here(project, lead, "0.1.0", operation="refresh")
    assert refresh.status == RunStatus.SUCCEEDED, refresh.error
    saved = refresh.saved_plan
    assert saved.has_changes and not saved.destroys
    assert not [c for c in saved.plan_json.get("resource_changes") or [] if c["change"]["actions"] != ["no-op"]]
    notes = [t.note for t in refresh.transitions.all()]
    assert "1 resource changed outside Hangar: the state takes what is there" in notes
    assert any(note.startswith("applied automatically") for note in notes), notes  # dev applies automatically
    assert (refresh.to_add, refresh.to_change, refresh.to_destroy) == (0, 0, 0)

    # The state now holds what is really there; the cloud was not changed back.
    assert dataset_labels_in_state(deployment_id)["owner"] == "someone-else"
    shown = localcloud_cli("--url", localcloud.url, "show", "--project", DEV_PROJECT, "dataset", "example_reports")
    assert shown["attributes"]["labels"]["owner"] == "someone-else"

    # Deployed by / at stay those of the apply; the last run is the refresh.
    deployment = Deployment.objects.get(pk=deployment_id)
    assert deployment.deployed_run_id == apply.pk and deployment.last_run_id == refresh.pk
    after = deployment_row(api_as(lead), project)
    assert {k: after[k] for k in ("deployed_version", "deployed_by", "deployed_at")} == {
        k: before[k] for k in ("deployed_version", "deployed_by", "deployed_at")
    }
    assert after["last_run"] == refresh.pk and after["last_run_operation"] == "refresh"
    table = client_for(lead).get(reverse("project_deployments", args=[project.slug])).text
    assert "Accept reality" in table and member.username in table

    # The run page shows what the state took, not "No changes".
    page = client_for(lead).get(refresh.get_absolute_url()).text
    assert "What the state takes" in page and "Changed outside Hangar" in page
    assert "owner" in page and "someone-else" in page
    assert "No changes" not in page
    plan = api_as(lead).get(f"/api/runs/{refresh.pk}/").json()["plan"]
    assert plan["refresh_only"] and plan["drift"][0]["address"] == DATASET
    assert {"path": "labels.owner", "before": None, "after": "someone-else"} in plan["drift"][0]["changes"]

    # The definition still says otherwise: the next plan of the same version changes the label back.
    again = run_here(project, lead, "0.1.0", operation="plan")
    assert again.status == RunStatus.SUCCEEDED, again.error
    assert (again.to_add, again.to_change, again.to_destroy) == (0, 1, 0)
    readable = api_as(lead).get(f"/api/runs/{again.pk}/").json()["plan"]
    assert readable["resource_changes"][0]["address"] == DATASET
    assert {"path": "labels.owner", "before": "someone-else", "after": None} in readable["resource_changes"][0][
        "changes"
    ]


@pytest.mark.django_db(transaction=True)
def test_a_refresh_whose_version_is_no_longer_deployed_when_it_starts_fails_without_terraform(
    run_here, upload, project, lead
):
    upload(project, lead, "0.1.0")
    v2 = upload(project, lead, "0.2.0")
    apply = deployed(project, lead)
    refresh = run_here(project, lead, "0.1.0", operation="refresh", execute=False)
    Deployment.objects.filter(pk=apply.deployment_id).update(deployed_artifact=v2)  # an apply queued ahead of it
    refresh = execute(refresh)
    assert refresh.status == RunStatus.FAILED
    assert "now runs 0.2.0, not 0.1.0: a run before this one changed it. Nothing was done." in refresh.error
    assert not refresh.log_lines.filter(type="init").exists()


@pytest.mark.terraform
@pytest.mark.django_db(transaction=True)
def test_on_prod_a_refresh_started_over_the_api_waits_for_its_confirmation(run_here, upload, project, lead, localcloud):
    upload(project, lead, "0.1.0")
    apply = run_here(project, lead, "0.1.0", environment="prod")
    assert apply.awaiting_confirmation, apply.error
    runs.run_confirm(run=apply, user=lead)
    assert execute(apply).status == RunStatus.SUCCEEDED, apply.error

    # Nothing changed outside yet: a refresh ends with no changes, and nothing waits.
    body = {
        "project": project.slug,
        "environment": "prod",
        "target": "local",
        "version": "0.1.0",
        "operation": "refresh",
    }
    quiet = execute(Run.objects.get(pk=api_as(lead).post("/api/runs/", body, format="json").json()["id"]))
    assert quiet.status == RunStatus.SUCCEEDED, quiet.error
    assert not quiet.saved_plan.has_changes and quiet.transitions.get(status="planned").note == "No changes"

    set_label(localcloud, "sc-123-example-prod", "owner=ops")
    response = api_as(lead).post("/api/runs/", body, format="json")
    assert response.status_code == 201, response.content
    run = execute(Run.objects.get(pk=response.json()["id"]))
    assert run.awaiting_confirmation, run.error
    assert "prod does not apply automatically" in run.transitions.last().note
    assert "owner" not in dataset_labels_in_state(run.deployment_id)  # nothing written before the confirmation
    waiting = api_as(lead).get(f"/api/runs/{run.pk}/").json()
    assert waiting["awaiting_confirmation"] and waiting["plan"]["refresh_only"] and waiting["plan"]["drift"]
    assert api_as(lead).post(f"/api/runs/{run.pk}/confirm/").status_code == 202
    run = execute(run)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert dataset_labels_in_state(run.deployment_id)["owner"] == "ops"
    assert Deployment.objects.get(pk=run.deployment_id).deployed_run_id == apply.pk
