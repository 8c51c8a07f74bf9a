"""Production deploys that need a second team lead's approval."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from deployments.runs import services as runs
from deployments.runs.choices import RunStatus
from deployments.runs.models import Deployment, Run
from onboarding import services
from onboarding.models import Role
from portal.models import AuditEvent


@pytest.fixture
def second_lead(make_user, team, lead):
    user = make_user("lena")
    services.team_set_member(team=team, user=user, role=Role.LEAD, by=lead)
    return user


@pytest.fixture
def gated(project, lead, upload):
    upload(project, lead, "0.1.0")
    return services.project_set_prod_approval(project=project, required=True, user=lead)


def start(project, user, env="prod", operation="apply"):
    return runs.run_start(
        project=project, environment=env, target="local", version="0.1.0", operation=operation, user=user
    )


def test_a_gated_prod_apply_waits_outside_the_queue(gated, lead, member):
    waiting = start(gated, member)
    assert waiting.approval_required and waiting.awaiting_approval
    assert runs.run_dispatch(deployment_id=waiting.deployment_id) is None
    plan = start(gated, member, operation="plan")  # plans need no approval and do not wait behind it
    assert not plan.approval_required
    assert runs.run_dispatch(deployment_id=waiting.deployment_id) == plan
    assert not start(gated, member, env="dev").approval_required  # only prod is gated


def test_a_second_lead_approves_and_the_run_joins_its_queue(gated, lead, member, second_lead):
    waiting = start(gated, lead)
    with pytest.raises(PermissionDenied, match="did not request"):
        runs.run_approve(run=waiting, user=lead)  # four eyes: not the requester
    with pytest.raises(PermissionDenied):
        runs.run_approve(run=waiting, user=member)  # members deploy, leads approve
    runs.run_approve(run=waiting, user=second_lead)
    waiting.refresh_from_db()
    assert waiting.approved_by == second_lead and not waiting.awaiting_approval
    assert AuditEvent.objects.filter(action="run.approve", actor=second_lead).exists()
    assert waiting.transitions.last().note == "approved by lena"
    assert runs.run_dispatch(deployment_id=waiting.deployment_id) == waiting
    with pytest.raises(ValidationError, match="not waiting for approval"):
        runs.run_approve(run=waiting, user=second_lead)


def test_a_waiting_run_can_be_cancelled(gated, member):
    waiting = start(gated, member)
    runs.run_cancel(run=waiting, user=member)
    waiting.refresh_from_db()
    assert waiting.status == RunStatus.CANCELLED
    assert Deployment.objects.get(pk=waiting.deployment_id).active_run_id is None


def test_the_run_page_asks_for_approval_and_offers_it_to_leads_only(gated, lead, member, client_for):
    waiting = start(gated, member)
    page = client_for(member).get(waiting.get_absolute_url()).text
    assert "Waiting for approval" in page and "Approve run" not in page
    client = client_for(lead)
    assert "Approve run" in client.get(waiting.get_absolute_url()).text
    client.post(reverse("run_approve", args=[waiting.pk]))
    assert Run.objects.get(pk=waiting.pk).approved_by == lead


def test_ci_can_approve_over_the_api(gated, lead, member):
    waiting = start(gated, member)
    api = APIClient()
    api.force_authenticate(member)
    assert api.get(f"/api/runs/{waiting.pk}/").json()["awaiting_approval"] is True
    assert api.post(f"/api/runs/{waiting.pk}/approve/").status_code == 403
    api.force_authenticate(lead)
    body = api.post(f"/api/runs/{waiting.pk}/approve/").json()
    assert body["approved_by"] == "alice" and body["awaiting_approval"] is False


def test_only_leads_switch_the_gate(project, lead, member, client_for):
    url = reverse("project_prod_approval", args=[project.slug])
    client_for(member).post(url, {"prod_requires_approval": "on"})
    project.refresh_from_db()
    assert not project.prod_requires_approval
    response = client_for(lead).post(url, {"prod_requires_approval": "on"}, follow=True)
    project.refresh_from_db()
    assert project.prod_requires_approval and "need a second team lead" in response.text
    assert AuditEvent.objects.filter(action="project.prod_approval", actor=lead).exists()
