"""Production deploys that need a second team lead's approval: approval of the saved plan."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from deployments.runs import services as runs
from deployments.runs.choices import RunStatus
from deployments.runs.models import Run
from onboarding import services
from onboarding.models import Role
from portal.models import AuditEvent
from tests.deployments.planned import parked_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_lead(make_user, team, lead):
    user = make_user("lena")
    services.team_set_member(team=team, user=user, role=Role.LEAD, by=lead)
    return user


@pytest.fixture
def gated(project, lead, upload):
    upload(project, lead, "0.1.0")
    return services.project_set_prod_approval(project=project, required=True, user=lead)


def test_a_gated_prod_apply_plans_first_and_its_plan_waits_for_approval(gated, lead, member):
    run = runs.run_start(project=gated, environment="prod", target="local", version="0.1.0",
                         operation="apply", user=member)  # fmt: skip
    assert run.approval_required and not run.awaiting_approval  # it plans first: nothing to approve yet
    assert runs.run_dispatch(deployment_id=run.deployment_id) == run  # in the queue like any run
    dev = runs.run_start(project=gated, environment="dev", target="local", version="0.1.0",
                         operation="apply", user=member)  # fmt: skip
    assert not dev.approval_required  # only prod is gated
    plan = runs.run_start(project=gated, environment="prod", target="local", version="0.1.0",
                          operation="plan", user=member)  # fmt: skip
    assert not plan.approval_required  # plans are never applied


def test_a_second_lead_approves_the_plan(gated, lead, member, second_lead):
    waiting = parked_run(gated, lead, environment="prod")
    assert waiting.awaiting_approval
    assert "second team lead's approval" in waiting.transitions.last().note
    with pytest.raises(PermissionDenied, match="did not request"):
        runs.run_approve(run=waiting, user=lead)  # four eyes: not the requester
    with pytest.raises(PermissionDenied):
        runs.run_confirm(run=waiting, user=member)  # members deploy, leads approve
    runs.run_approve(run=waiting, user=second_lead)
    waiting.refresh_from_db()
    assert waiting.status == RunStatus.CONFIRMED and not waiting.awaiting_approval
    assert waiting.approved_by == second_lead and waiting.confirmed_by == second_lead
    assert AuditEvent.objects.filter(action="run.confirm", actor=second_lead).exists()
    assert waiting.transitions.last().note == "approved by lena"
    with pytest.raises(ValidationError, match="not waiting for a confirmation"):
        runs.run_approve(run=waiting, user=second_lead)


def test_the_requester_may_still_discard_a_plan_waiting_for_approval(gated, member):
    waiting = parked_run(gated, member, environment="prod")
    runs.run_discard(run=waiting, user=member)
    assert Run.objects.get(pk=waiting.pk).status == RunStatus.DISCARDED


def test_the_run_page_asks_for_approval_and_offers_it_to_other_leads_only(gated, lead, member, client_for):
    waiting = parked_run(gated, member, environment="prod")
    page = client_for(member).get(waiting.get_absolute_url()).text
    assert "Waiting for approval" in page and "Approve and apply" not in page
    client = client_for(lead)
    assert "Approve and apply" in client.get(waiting.get_absolute_url()).text
    client.post(reverse("run_confirm", args=[waiting.pk]))
    assert Run.objects.get(pk=waiting.pk).approved_by == lead


def test_ci_can_approve_over_the_api(gated, lead, member):
    waiting = parked_run(gated, member, environment="prod")
    api = APIClient()
    api.force_authenticate(member)
    assert api.get(f"/api/runs/{waiting.pk}/").json()["awaiting_approval"] is True
    assert api.post(f"/api/runs/{waiting.pk}/confirm/").status_code == 403
    assert api.post(f"/api/runs/{waiting.pk}/approve/").status_code == 403
    api.force_authenticate(lead)
    response = api.post(f"/api/runs/{waiting.pk}/approve/")  # the older name of confirm, kept for pipelines
    assert response.status_code == 202
    body = response.json()
    assert body["approved_by"] == "alice" and body["awaiting_approval"] is False and body["status"] == "confirmed"


def test_only_leads_switch_the_gate(project, lead, member, client_for):
    url = reverse("project_prod_approval", args=[project.slug])
    client_for(member).post(url, {"prod_requires_approval": "on"})
    project.refresh_from_db()
    assert not project.prod_requires_approval
    response = client_for(lead).post(url, {"prod_requires_approval": "on"}, follow=True)
    project.refresh_from_db()
    assert project.prod_requires_approval and "need a second team lead" in response.text
    assert AuditEvent.objects.filter(action="project.prod_approval", actor=lead).exists()
