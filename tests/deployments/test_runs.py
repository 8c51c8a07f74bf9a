"""Queueing, serialisation, cancelling and reaping, without a worker."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from deployments.runs import services as runs
from deployments.runs.choices import RunStatus
from deployments.runs.models import Deployment, Run
from deployments.runs.selectors import queue_position
from portal.models import AuditEvent


@pytest.fixture
def v1(upload, project, lead):
    return upload(project, lead, "0.1.0")


def start(project, user, env="dev", version="0.1.0", operation="apply"):
    return runs.run_start(
        project=project, environment=env, target="local", version=version, operation=operation, user=user
    )


def test_a_run_starts_queued_and_takes_the_free_slot(project, lead, v1, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = start(project, lead)
    assert run.status == RunStatus.QUEUED and len(callbacks) == 1
    runs.run_dispatch(deployment_id=run.deployment_id)
    assert Deployment.objects.get(pk=run.deployment_id).active_run_id == run.pk
    assert AuditEvent.objects.filter(action="run.apply", object_id=str(run.pk)).exists()


def test_a_second_run_queues_behind_the_first(project, lead, v1):
    first, second = start(project, lead), start(project, lead, operation="plan")
    runs.run_dispatch(deployment_id=first.deployment_id)
    assert runs.run_dispatch(deployment_id=first.deployment_id) is None  # slot taken
    assert queue_position(second) == 1
    assert runs.run_claim(run_id=second.pk, worker="w") is None  # not its turn
    claimed = runs.run_claim(run_id=first.pk, worker="w")
    assert claimed.status == RunStatus.PLANNING
    runs.run_finish(run=claimed, status=RunStatus.SUCCEEDED)
    runs.run_dispatch(deployment_id=first.deployment_id)
    assert Deployment.objects.get(pk=first.deployment_id).active_run_id == second.pk
    assert queue_position(Run.objects.get(pk=second.pk)) == 0


def test_runs_on_other_environments_do_not_wait(project, lead, v1):
    dev, test = start(project, lead, "dev"), start(project, lead, "test")
    runs.run_dispatch(deployment_id=dev.deployment_id)
    assert runs.run_dispatch(deployment_id=test.deployment_id) == test


def test_a_succeeded_apply_becomes_the_deployed_version_and_destroy_clears_it(project, lead, v1):
    run = start(project, lead)
    runs.run_dispatch(deployment_id=run.deployment_id)
    runs.run_finish(run=runs.run_claim(run_id=run.pk, worker="w"), status=RunStatus.SUCCEEDED)
    deployment = Deployment.objects.get(pk=run.deployment_id)
    assert deployment.deployed_artifact == v1 and deployment.last_run_id == run.pk
    destroy = start(project, lead, operation="destroy")
    runs.run_dispatch(deployment_id=run.deployment_id)
    runs.run_finish(run=runs.run_claim(run_id=destroy.pk, worker="w"), status=RunStatus.SUCCEEDED)
    assert Deployment.objects.get(pk=run.deployment_id).deployed_artifact is None


def test_cancelling_a_queued_run_ends_it_at_once(project, lead, v1):
    first, second = start(project, lead), start(project, lead)
    runs.run_dispatch(deployment_id=first.deployment_id)
    runs.run_cancel(run=second, user=lead)
    second.refresh_from_db()
    assert second.status == RunStatus.CANCELLED and second.finished_at
    runs.run_cancel(run=first, user=lead)  # holds the slot: the worker is asked to stop it
    first.refresh_from_db()
    assert first.status == RunStatus.QUEUED and first.cancel_requested_at
    with pytest.raises(ValidationError, match="already ended"):
        runs.run_cancel(run=second, user=lead)


def test_viewers_and_outsiders_cannot_deploy_or_cancel(project, lead, viewer, outsider, v1):
    for user in (viewer, outsider):
        with pytest.raises(PermissionDenied):
            start(project, user)
    run = start(project, lead)
    with pytest.raises(PermissionDenied):
        runs.run_cancel(run=run, user=viewer)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"env": "stage"}, "environment", "use one of: dev, test, prod"),
        ({"version": "9.9.9"}, "version", "no artifact version '9.9.9'"),
        ({"operation": "explode"}, "operation", "use one of: plan, apply, destroy"),
    ],
)
def test_bad_requests_say_what_is_allowed(project, lead, v1, kwargs, field, message):
    with pytest.raises(ValidationError) as error:
        start(project, lead, **kwargs)
    assert message in " ".join(error.value.message_dict[field])
    assert not Run.objects.exists()


def test_the_reaper_fails_a_run_whose_worker_went_silent_and_frees_the_slot(project, lead, v1, settings):
    first, second = start(project, lead), start(project, lead)
    runs.run_dispatch(deployment_id=first.deployment_id)
    runs.run_claim(run_id=first.pk, worker="celery@lost-host")
    Deployment.objects.filter(pk=first.deployment_id).update(lock_id="L", lock_run=first)
    Run.objects.filter(pk=first.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT + 5)
    )
    assert runs.reap_lost_runs() == [first.pk]
    first.refresh_from_db()
    assert first.status == RunStatus.FAILED
    assert "(celery@lost-host) stopped responding" in first.error and "deploy again" in first.error
    deployment = Deployment.objects.get(pk=first.deployment_id)
    assert deployment.active_run_id is None and deployment.lock_id == ""
    assert runs.run_dispatch(deployment_id=first.deployment_id) == second


def test_a_fresh_heartbeat_is_left_alone(project, lead, v1):
    run = start(project, lead)
    runs.run_dispatch(deployment_id=run.deployment_id)
    runs.run_claim(run_id=run.pk, worker="w")
    assert runs.reap_lost_runs() == []


def test_a_queued_run_whose_task_was_lost_is_sent_again_then_failed(
    project, lead, v1, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from deployments.runs import dispatch

    sent = []
    monkeypatch.setattr(dispatch, "send_task", lambda name, *args: sent.append(args) or f"task-{len(sent)}")
    settings.RUN_DISPATCH_TIMEOUT, settings.RUN_DISPATCH_ATTEMPTS = 60, 3
    first, second = start(project, lead), start(project, lead, operation="plan")
    with django_capture_on_commit_callbacks(execute=True):
        runs.run_dispatch(deployment_id=first.deployment_id)
    assert sent == [(first.pk,)]  # ... and the message is lost: no worker ever claims it

    def later():
        Run.objects.filter(pk=first.pk).update(dispatched_at=timezone.now() - timedelta(seconds=61))

    assert runs.redispatch_stuck_runs() == []  # not yet due
    for attempt in (2, 3):
        later()
        with django_capture_on_commit_callbacks(execute=True):
            assert runs.reap_lost_runs() == []
        assert sent[-1] == (first.pk,) and len(sent) == attempt
        assert Run.objects.get(pk=first.pk).dispatch_count == attempt
    assert first.transitions.filter(note__contains="handed to the workers again (attempt 3 of 3)").exists()
    later()
    with django_capture_on_commit_callbacks(execute=True):
        runs.reap_lost_runs()
    first.refresh_from_db()
    assert first.status == RunStatus.FAILED and "No worker started this run" in first.error
    assert Deployment.objects.get(pk=first.deployment_id).active_run_id == second.pk
    assert sent[-1] == (second.pk,)


def test_an_admin_frees_a_stuck_slot_from_the_state_page(
    client, project, lead, admin_user, v1, monkeypatch, django_capture_on_commit_callbacks
):
    from deployments.runs import dispatch

    monkeypatch.setattr(dispatch, "send_task", lambda name, *args: "")
    stuck, waiting = start(project, lead), start(project, lead, operation="plan")
    with django_capture_on_commit_callbacks(execute=True):
        runs.run_dispatch(deployment_id=stuck.deployment_id)
    url = f"/projects/{project.slug}/deployments/dev/local/state/"
    client.force_login(lead)
    assert client.post(f"{url}free-slot/").status_code == 403
    client.force_login(admin_user)
    page = client.get(url)
    assert b"Free the slot" in page.content and f"run #{stuck.pk}".encode() in page.content
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"{url}free-slot/").status_code == 302
    stuck.refresh_from_db()
    assert stuck.status == RunStatus.FAILED and "freed this deployment's slot" in stuck.error
    assert Deployment.objects.get(pk=stuck.deployment_id).active_run_id == waiting.pk
    event = AuditEvent.objects.get(action="deployment.free_slot")
    assert event.actor == admin_user and event.details["run"] == stuck.pk and event.details["status"] == "queued"
