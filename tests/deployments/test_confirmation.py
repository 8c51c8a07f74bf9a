"""Review before change: who may confirm or discard a saved plan, stale and expired plans, the slot a
planned run keeps, auto-apply per environment, and the API (confirm, discard, environment settings)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from deployments.runs import services as runs
from deployments.runs.choices import RunStatus
from deployments.runs.models import Deployment, Run
from deployments.state import services as state
from portal.models import AuditEvent
from tests.deployments.planned import DELETE_PLAN, parked_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def uploaded(project, lead, upload):
    upload(project, lead, "0.1.0")
    return project


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_new_projects_apply_automatically_in_dev_and_test_but_not_prod(project):
    assert {e.name: e.auto_apply for e in project.environments.all()} == {"dev": True, "test": True, "prod": False}


def test_whether_a_plan_waits_follows_the_environment_and_what_it_destroys(uploaded, member):
    dev = parked_run(uploaded, member)
    assert runs.confirmation_reasons(dev, destroys=False) == []
    assert runs.confirmation_reasons(dev, destroys=True) == ["the plan destroys or replaces resources"]
    runs.run_discard(run=dev, user=member)
    prod = parked_run(uploaded, member, environment="prod")
    assert prod.needs_confirmation and not prod.auto_apply
    assert runs.confirmation_reasons(prod, destroys=False) == ["prod does not apply automatically"]
    pipeline = runs.run_start(project=uploaded, environment="dev", target="local", version="0.1.0",
                              operation="apply", user=member, confirm_destroy=True)  # fmt: skip
    assert runs.confirmation_reasons(pipeline, destroys=True) == []
    plan = runs.run_start(project=uploaded, environment="dev", target="local", version="0.1.0",
                          operation="plan", user=member, confirm_destroy=True)  # fmt: skip
    assert not plan.confirm_destroy and not plan.auto_apply  # a plan is never applied


def test_a_planned_run_keeps_its_slot_and_later_runs_queue_behind_it(uploaded, member, client_for):
    waiting = parked_run(uploaded, member)
    assert waiting.awaiting_confirmation and waiting.plan_expires_at > timezone.now()
    assert waiting.heartbeat_at is None and waiting.state_credential == ""  # no worker holds it
    behind = runs.run_start(project=uploaded, environment="dev", target="local", version="0.1.0",
                            operation="plan", user=member)  # fmt: skip
    assert runs.run_dispatch(deployment_id=waiting.deployment_id) is None
    page = client_for(member).get(behind.get_absolute_url()).text
    assert f'waiting for <a href="/runs/{waiting.pk}/">run #{waiting.pk}</a>, whose plan waits' in page
    # The reaper leaves it alone: nobody is late with a heartbeat.
    assert runs.reap_lost_runs() == []
    assert Run.objects.get(pk=waiting.pk).status == RunStatus.PLANNED


def test_confirm_sends_the_run_to_a_worker_to_apply_exactly_its_plan(uploaded, member):
    waiting = parked_run(uploaded, member)
    confirmed = runs.run_confirm(run=waiting, user=member)
    assert confirmed.status == RunStatus.CONFIRMED and confirmed.confirmed_by == member
    assert confirmed.dispatched_at and confirmed.transitions.last().note == "confirmed by bob"
    assert AuditEvent.objects.filter(action="run.confirm", actor=member).exists()
    claimed = runs.run_claim(run_id=waiting.pk, worker="test-host")
    assert claimed.status == RunStatus.APPLYING
    with pytest.raises(ValidationError, match="not waiting for a confirmation"):
        runs.run_confirm(run=claimed, user=member)


def test_a_stale_plan_cannot_be_confirmed(uploaded, member, client_for):
    waiting = parked_run(uploaded, member)
    # Another state version appears (an accepted drift, an admin's push): the plan no longer fits.
    state.state_seed(deployment_id=waiting.deployment_id, run=waiting, terraform_version="1.0.3")
    with pytest.raises(ValidationError, match="stale: the state changed after this plan was made"):
        runs.run_confirm(run=waiting, user=member)
    assert Run.objects.get(pk=waiting.pk).status == RunStatus.PLANNED
    response = api_as(member).post(f"/api/runs/{waiting.pk}/confirm/")
    assert response.status_code == 409 and response.json()["code"] == "stale"
    page = client_for(member).get(waiting.get_absolute_url()).text
    assert "This plan is stale" in page and 'id="plan-again"' in page and 'id="confirm-plan"' not in page
    again = client_for(member).post(reverse("run_plan_again", args=[waiting.pk]), follow=True)
    assert Run.objects.get(pk=waiting.pk).status == RunStatus.DISCARDED
    fresh = Run.objects.exclude(pk=waiting.pk).get()
    assert (fresh.status, fresh.artifact_id, fresh.operation) == ("queued", waiting.artifact_id, "apply")
    assert f"Planning 0.1.0 again as run #{fresh.pk}" in again.text


def test_discarding_frees_the_slot_for_the_next_run(uploaded, member):
    waiting = parked_run(uploaded, member)
    behind = runs.run_start(project=uploaded, environment="dev", target="local", version="0.1.0",
                            operation="plan", user=member)  # fmt: skip
    runs.run_discard(run=waiting, user=member)
    waiting.refresh_from_db()
    assert waiting.status == RunStatus.DISCARDED and waiting.finished_at
    assert "discarded by bob; nothing was applied" in waiting.transitions.last().note
    assert runs.run_dispatch(deployment_id=waiting.deployment_id) == behind
    with pytest.raises(ValidationError):
        runs.run_discard(run=waiting, user=member)


def test_cancelling_a_planned_run_discards_its_plan(uploaded, member, django_capture_on_commit_callbacks):
    waiting = parked_run(uploaded, member)
    with django_capture_on_commit_callbacks(execute=True):
        runs.run_cancel(run=waiting, user=member)
    assert Run.objects.get(pk=waiting.pk).status == RunStatus.DISCARDED
    assert Deployment.objects.get(pk=waiting.deployment_id).active_run_id is None


def test_a_plan_nobody_confirms_expires(uploaded, member, settings):
    settings.PLAN_CONFIRM_TIMEOUT = 60
    waiting = parked_run(uploaded, member)
    assert runs.expire_plans() == []
    Run.objects.filter(pk=waiting.pk).update(plan_expires_at=timezone.now() - timedelta(seconds=1))
    assert runs.reap_lost_runs() == []  # the reaper's round expires plans too
    waiting.refresh_from_db()
    assert waiting.status == RunStatus.DISCARDED
    assert "expired: nobody confirmed the plan within 0.0166667 h" in waiting.transitions.last().note
    assert Deployment.objects.get(pk=waiting.deployment_id).active_run_id is None


def test_an_expired_plan_cannot_be_confirmed_even_before_the_reaper_comes(uploaded, member):
    waiting = parked_run(uploaded, member)
    Run.objects.filter(pk=waiting.pk).update(plan_expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="expired"):
        runs.run_confirm(run=Run.objects.get(pk=waiting.pk), user=member)


def test_viewers_and_other_teams_can_neither_confirm_nor_discard(uploaded, member, viewer, outsider):
    waiting = parked_run(uploaded, member)
    with pytest.raises(PermissionDenied):
        runs.run_confirm(run=waiting, user=viewer)
    with pytest.raises(PermissionDenied):
        runs.run_discard(run=waiting, user=viewer)
    assert api_as(viewer).post(f"/api/runs/{waiting.pk}/confirm/").status_code == 403
    assert api_as(viewer).post(f"/api/runs/{waiting.pk}/discard/").status_code == 403
    for action in ("confirm", "discard"):
        assert api_as(outsider).post(f"/api/runs/{waiting.pk}/{action}/").status_code == 404
    assert Run.objects.get(pk=waiting.pk).awaiting_confirmation


def test_the_api_confirms_discards_and_reports_the_plan(uploaded, member):
    waiting = parked_run(uploaded, member, plan_json=DELETE_PLAN)
    api = api_as(member)
    body = api.get(f"/api/runs/{waiting.pk}/").json()
    assert body["awaiting_confirmation"] and body["needs_confirmation"] and body["plan_expires_at"]
    assert body["plan"]["destroy"] == 1
    [change] = body["plan"]["resource_changes"]
    assert change["action"] == "delete" and change["dsl"] == {"kind": "dataset", "name": "example_reports"}
    listed = api.get("/api/runs/").json()["results"][0]
    assert listed["plan"]["destroy"] == 1  # lists carry the counts
    response = api.post(f"/api/runs/{waiting.pk}/discard/")
    assert response.status_code == 200 and response.json()["status"] == "discarded"
    response = api.post(f"/api/runs/{waiting.pk}/discard/")
    assert response.status_code == 409 and "not waiting for a confirmation" in response.json()["detail"][0]
    again = parked_run(uploaded, member)
    response = api.post(f"/api/runs/{again.pk}/confirm/")
    assert response.status_code == 202 and response.json()["status"] == "confirmed"
    assert response.json()["confirmed_by"] == "bob"


def test_the_run_page_shows_the_plan_and_the_buttons_to_whoever_may_use_them(uploaded, member, viewer, client_for):
    waiting = parked_run(uploaded, member, plan_json=DELETE_PLAN)
    page = client_for(member).get(waiting.get_absolute_url()).text
    assert "Waiting for confirmation" in page and "What this plan changes" in page
    assert 'id="confirm-plan"' in page and 'id="discard-plan"' in page and "Cancel run" not in page
    seen = client_for(viewer).get(waiting.get_absolute_url()).text
    assert "What this plan changes" in seen and 'id="confirm-plan"' not in seen and 'id="discard-plan"' not in seen
    client_for(viewer).post(reverse("run_confirm", args=[waiting.pk]))
    assert Run.objects.get(pk=waiting.pk).awaiting_confirmation
    client_for(member).post(reverse("run_confirm", args=[waiting.pk]))
    assert Run.objects.get(pk=waiting.pk).status == RunStatus.CONFIRMED


def test_only_leads_change_auto_apply_in_pages_and_api(project, lead, member, viewer, outsider, client_for):
    url = "/api/projects/sc-123-example/environments/prod/"
    assert api_as(member).get(url).json() == {"name": "prod", "gcp_project_id": "sc-123-example-prod",
                                               "auto_apply": False}  # fmt: skip
    assert api_as(member).patch(url, {"auto_apply": True}, format="json").status_code == 403
    assert api_as(viewer).patch(url, {"auto_apply": True}, format="json").status_code == 403
    assert api_as(outsider).patch(url, {"auto_apply": True}, format="json").status_code == 404
    bad = api_as(lead).patch(url, {"auto_apply": "sometimes"}, format="json")
    assert bad.status_code == 400 and "auto_apply" in bad.json()
    assert api_as(lead).patch("/api/projects/sc-123-example/environments/qa/", {"auto_apply": True},
                              format="json").status_code == 404  # fmt: skip
    assert project.environments.get(name="prod").auto_apply is False
    response = api_as(lead).patch(url, {"auto_apply": True}, format="json")
    assert response.status_code == 200 and response.json()["auto_apply"] is True
    assert AuditEvent.objects.filter(action="environment.auto_apply", actor=lead).count() == 1
    # The Details tab: a member's post changes nothing; the lead's turns dev off and leaves the rest.
    page_url = reverse("project_auto_apply", args=[project.slug])
    client_for(member).post(page_url, {"auto_apply": []})
    assert project.environments.get(name="dev").auto_apply
    response = client_for(lead).post(page_url, {"auto_apply": ["test", "prod"]}, follow=True)
    assert {e.name: e.auto_apply for e in project.environments.all()} == {"dev": False, "test": True, "prod": True}
    assert "Saved: Development." in response.text


def test_the_readable_plan_waits_for_the_plans_json_and_is_not_cached_empty(uploaded, member):
    from deployments.plans import services as plans
    from deployments.plans.readable import readable_plan
    from deployments.plans.selectors import run_readable_plan
    from tests.deployments.planned import CREATE_PLAN

    run = runs.run_start(project=uploaded, environment="dev", target="local", version="0.1.0",
                         operation="apply", user=member)  # fmt: skip
    saved = plans.plan_store_file(run=run, data=b"binary plan")  # the worker stores the binary plan first
    assert run_readable_plan(run) is None
    plans.plan_describe(saved=saved, plan_json=CREATE_PLAN, readable=readable_plan(CREATE_PLAN), row_counts={})
    assert run_readable_plan(run).add == 1
