"""The rules of drift checks, without Terraform: who may check, what the schedule picks and when, how checks
are spread, skipped, reaped and pruned, and what their credentials may do at the state backend."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from deployments.drift import services
from deployments.drift.health import deployment_health
from deployments.drift.models import DriftCheck
from deployments.plans import readonly
from deployments.runs import dispatch
from deployments.runs.models import Deployment, Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Tasks handed to Celery: (name, args, countdown)."""
    calls = []
    monkeypatch.setattr(dispatch, "send_task", lambda name, *args, countdown=0: calls.append((name, args, countdown)))
    return calls


@pytest.fixture
def deployed(upload, project, lead):
    """Every environment of the project runs version 0.1.0 (recorded only: nothing was applied)."""
    artifact = upload(project, lead, "0.1.0")
    return [
        Deployment.objects.create(environment=environment, target="local", deployed_artifact=artifact)
        for environment in project.environments.order_by("position")
    ]


def finish(check: DriftCheck, outcome="in_sync", at=None, **fields) -> DriftCheck:
    at = at or timezone.now()
    DriftCheck.objects.filter(pk=check.pk).update(status="finished", outcome=outcome, finished_at=at, **fields)
    Deployment.objects.filter(pk=check.deployment_id).update(last_drift_check=check)
    check.refresh_from_db()
    return check


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


CHECK = "/api/projects/{slug}/deployments/{env}/local/check/"


def test_check_now_is_for_the_team_that_can_deploy(deployed, project, member, viewer, outsider, sent, client_for):
    url = CHECK.format(slug=project.slug, env="dev")
    with_captured = api_for(member).post(url)
    assert with_captured.status_code == 202, with_captured.content
    first = with_captured.json()
    assert first["status"] == "queued" and first["environment"] == "dev" and first["version"] == "0.1.0"
    # A second request while it waits gets the same check, not another.
    assert api_for(member).post(url).json()["id"] == first["id"]
    assert DriftCheck.objects.count() == 1

    refused = api_for(viewer).post(url)
    assert refused.status_code == 403 and "viewers only watch" in refused.json()["detail"]
    assert api_for(outsider).post(url).status_code == 404  # another team's project does not exist for them
    assert api_for(outsider).get(f"/api/drift-checks/{first['id']}/").status_code == 404
    assert api_for(viewer).get(f"/api/drift-checks/{first['id']}/").status_code == 200  # viewers may read

    page = client_for(viewer).post(f"/projects/{project.slug}/deployments/dev/local/drift/check/", follow=True)
    assert "viewers only watch" in page.text
    assert client_for(outsider).get(f"/projects/{project.slug}/deployments/dev/local/drift/").status_code == 404
    assert DriftCheck.objects.count() == 1


def test_nothing_deployed_is_nothing_to_check(project, lead, upload, sent):
    upload(project, lead, "0.1.0")
    Deployment.objects.create(environment=project.environments.get(name="dev"), target="local")
    for env in ("dev", "test"):  # dev: a row with nothing deployed; test: no row at all
        response = api_for(lead).post(CHECK.format(slug=project.slug, env=env))
        assert response.status_code == 400
        assert "Nothing is deployed on" in str(response.json()) and "Deploy first" in str(response.json())
    assert api_for(lead).post(CHECK.format(slug=project.slug, env="staging")).status_code == 404
    assert not DriftCheck.objects.exists() and not sent


def test_a_check_is_skipped_while_a_run_is_active(deployed, lead, sent):
    deployment = deployed[0]
    run = Run.objects.create(deployment=deployment, artifact=deployment.deployed_artifact, status="running")
    Deployment.objects.filter(pk=deployment.pk).update(active_run=run)
    check = services.drift_check_start(deployment=deployment, user=lead)
    services.drift_check_execute(check_id=check.pk)  # would fail loudly if it tried to plan: no server here
    check.refresh_from_db()
    assert check.status == "skipped" and "A run was active" in check.note and check.outcome == ""
    deployment.refresh_from_db()
    assert deployment.last_drift_check_id is None
    assert deployment_health(deployment).status == "unchecked"
    # Still due: the next sweep tries again once the run is over.
    Deployment.objects.filter(pk=deployment.pk).update(active_run=None)
    assert deployment.pk in list(services.deployments_due().values_list("pk", flat=True))


def test_the_sweep_spreads_checks_over_its_interval_and_takes_a_batch(
    deployed, settings, sent, django_capture_on_commit_callbacks
):
    settings.DRIFT_CHECK_INTERVAL, settings.DRIFT_SWEEP_INTERVAL, settings.DRIFT_SWEEP_BATCH = 3600, 60, 2
    with django_capture_on_commit_callbacks(execute=True):
        first = services.drift_sweep()
    assert len(first) == 2
    assert [(name, countdown) for name, _, countdown in sent] == [(services.DRIFT_CHECK, 0), (services.DRIFT_CHECK, 30)]
    with django_capture_on_commit_callbacks(execute=True):
        second = services.drift_sweep()  # the two queued are not due again; the third is
    assert len(second) == 1
    assert services.drift_sweep() == []

    now = timezone.now()
    for check in DriftCheck.objects.all():
        finish(check, at=now)
    assert services.drift_sweep(now=now + timedelta(seconds=60)) == []  # checked a minute ago: not due
    due_later = services.drift_sweep(now=now + timedelta(seconds=3601))
    assert len(due_later) == 2  # due again after DRIFT_CHECK_INTERVAL, the batch at a time

    settings.DRIFT_CHECK_INTERVAL = 0
    DriftCheck.objects.filter(status="queued").update(status="skipped")
    assert services.drift_sweep(now=now + timedelta(days=1)) == []  # 0: no schedule


def test_a_run_since_the_check_makes_it_stale_and_due(deployed, lead, settings, sent):
    settings.DRIFT_CHECK_INTERVAL = 3600
    deployment = deployed[0]
    checked_at = timezone.now() - timedelta(minutes=5)
    finish(DriftCheck.objects.create(deployment=deployment, artifact=deployment.deployed_artifact), at=checked_at)
    deployment = Deployment.objects.select_related("last_drift_check", "last_run").get(pk=deployment.pk)
    assert deployment_health(deployment).label == "In sync"
    assert deployment.pk not in set(services.deployments_due().values_list("pk", flat=True))

    run = Run.objects.create(deployment=deployment, artifact=deployment.deployed_artifact, status="succeeded",
                             finished_at=timezone.now())  # fmt: skip
    Deployment.objects.filter(pk=deployment.pk).update(last_run=run)
    deployment = Deployment.objects.select_related("last_drift_check", "last_run").get(pk=deployment.pk)
    health = deployment_health(deployment)
    assert (health.status, health.label) == ("unchecked", "Not checked since the last run")
    assert deployment.pk in set(services.deployments_due().values_list("pk", flat=True))


def test_lost_checks_are_reaped_and_retried(deployed, settings, sent):
    settings.DRIFT_SWEEP_INTERVAL, settings.RUN_DISPATCH_TIMEOUT, settings.RUN_TIME_LIMIT = 60, 60, 600
    queued = DriftCheck.objects.create(deployment=deployed[0], artifact=deployed[0].deployed_artifact)
    running = DriftCheck.objects.create(deployment=deployed[1], artifact=deployed[1].deployed_artifact,
                                        status="running", credential="x")  # fmt: skip
    long_ago = timezone.now() - timedelta(hours=2)
    DriftCheck.objects.filter(pk=queued.pk).update(created_at=long_ago)
    DriftCheck.objects.filter(pk=running.pk).update(started_at=long_ago)
    new = services.drift_sweep()
    queued.refresh_from_db()
    running.refresh_from_db()
    assert queued.status == "skipped" and "No worker took the check" in queued.note
    assert running.status == "skipped" and "worker running the check was lost" in running.note
    assert running.credential == ""
    assert len(new) == 3  # all three deployments are checked again


def test_pruning_keeps_the_newest_and_every_drift(deployed, settings):
    settings.DRIFT_KEEP = 3
    deployment = deployed[0]
    artifact = deployment.deployed_artifact
    drifted = finish(DriftCheck.objects.create(deployment=deployment, artifact=artifact), outcome="drifted")
    for _ in range(6):
        finish(DriftCheck.objects.create(deployment=deployment, artifact=artifact))
    other = finish(DriftCheck.objects.create(deployment=deployed[1], artifact=artifact))
    assert services.drift_checks_prune(deployment_id=deployment.pk) == 3
    kept = list(DriftCheck.objects.filter(deployment=deployment).order_by("id").values_list("outcome", flat=True))
    assert kept == ["drifted", "in_sync", "in_sync", "in_sync"]
    assert DriftCheck.objects.filter(pk__in=[drifted.pk, other.pk]).count() == 2


def test_a_checks_state_credentials_only_read(deployed, client):
    deployment = deployed[0]
    check = DriftCheck.objects.create(deployment=deployment, artifact=deployment.deployed_artifact,
                                      status="running", credential=readonly.digest("secret"))  # fmt: skip

    def call(method, password="secret", username=f"drift-{check.pk}", deployment_id=deployment.pk):
        auth = base64.b64encode(f"{username}:{password}".encode()).decode()
        return client.generic(method, f"/state/{deployment_id}/", b"{}", HTTP_AUTHORIZATION=f"Basic {auth}")

    assert call("GET").status_code == 204  # no state yet: readable all the same
    for method in ("POST", "LOCK", "UNLOCK"):
        refused = call(method)
        assert refused.status_code == 403 and b"may only read" in refused.content
    assert call("GET", password="wrong").status_code == 403
    assert call("GET", deployment_id=deployed[1].pk).status_code == 403  # another deployment's state
    DriftCheck.objects.filter(pk=check.pk).update(status="finished")
    assert call("GET").status_code == 403  # only while it runs
