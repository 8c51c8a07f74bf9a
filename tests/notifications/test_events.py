"""Which events the apps' signals turn into notifications: successes (prod by default), drift found and
resolved, a shared Airflow change that finished; and the sandbox entry point."""

import pytest

from deployments.drift import services as drift
from deployments.drift.models import DriftCheck
from deployments.runs import services as runs
from deployments.runs.models import Deployment, Run
from notifications import services
from notifications.events import EVENTS
from notifications.models import Delivery
from onboarding.models import SharedChange

pytestmark = pytest.mark.django_db(transaction=True)


def hook(project, lead, receiver, events, **extra):
    return services.destination_create(user=lead, project=project, kind="webhook", name="hook", events=events,
                                       url=receiver.url, **extra).destination  # fmt: skip


def finished_run(project, user, environment, *, status="succeeded", outputs=None) -> Run:
    """A run taken through the queue's services and finished as a worker finishes it."""
    run = runs.run_start(project=project, environment=environment, target="local", version="0.1.0",
                         operation="apply", user=user)  # fmt: skip
    run = runs.run_claim(run_id=run.pk, worker="test-host") or Run.objects.get(pk=run.pk)
    Run.objects.filter(pk=run.pk).update(outputs=outputs or {}, to_add=1, to_change=0, to_destroy=0)
    runs.run_finish(run=Run.objects.get(pk=run.pk), status=status)
    return Run.objects.get(pk=run.pk)


def test_successes_are_sent_for_prod_only_by_default_and_carry_no_outputs(deliver_inline, receiver, upload, project,
                                                                          lead):  # fmt: skip
    hook(project, lead, receiver, ["run.succeeded"])
    upload(project, lead, "0.1.0")
    finished_run(project, lead, "dev")
    secret_output = {"db_password": {"value": "hunter2-very-secret", "sensitive": True}}
    prod = finished_run(project, lead, "prod", outputs=secret_output)
    [received] = receiver.wait(1)
    payload = received.json()
    assert (payload["event"], payload["environment"], payload["run"]["id"]) == ("run.succeeded", "prod", prod.pk)
    assert payload["summary"]["plan"] == {"add": 1, "change": 0, "destroy": 0}
    assert b"hunter2" not in received.body and b"db_password" not in received.body


def test_a_destination_may_want_successes_everywhere(deliver_inline, receiver, upload, project, lead):
    hook(project, lead, receiver, ["run.succeeded"], success_environments=["dev", "test", "prod"])
    upload(project, lead, "0.1.0")
    finished_run(project, lead, "dev")
    assert receiver.wait(1)[0].json()["environment"] == "dev"


def test_drift_detected_and_resolved_are_sent_once_each(deliver_inline, receiver, upload, project, lead):
    hook(project, lead, receiver, ["drift.detected", "drift.resolved"])
    artifact = upload(project, lead, "0.1.0")
    deployment = Deployment.objects.create(environment=project.environments.get(name="dev"), target="local",
                                           deployed_artifact=artifact)  # fmt: skip
    drifted = [{"address": "module.dataset_example_reports.localcloud_dataset.this", "action": "update",
                "dsl": {"kind": "dataset", "name": "example_reports"},
                "changes": [{"path": "labels.cost_center", "before": None, "after": "finance",
                             "sentence": "label cost_center added (finance)"}]}]  # fmt: skip

    def check(outcome, **result):
        made = DriftCheck.objects.create(deployment=deployment, artifact=artifact, status="running")
        drift._finish(made, outcome=outcome, **result)
        return made

    check("in_sync")  # nothing to say
    found = check("drifted", resources=drifted, drifted_count=1)
    check("check_failed", error="the cloud did not answer")  # says nothing about the cloud
    check("drifted", resources=drifted, drifted_count=1)  # still drifted: no news
    resolved = check("in_sync")
    detected, back = receiver.wait(2)
    assert len(receiver.requests) == 2
    payload = detected.json()
    assert payload["event"] == "drift.detected" and payload["environment"] == "dev"
    assert payload["url"].endswith(f"/projects/{project.slug}/deployments/dev/local/drift/")
    assert payload["summary"]["check_id"] == found.pk and payload["summary"]["drifted"] == 1
    assert payload["summary"]["resources"] == [{"address": drifted[0]["address"], "action": "update",
                                                "dsl": {"kind": "dataset", "name": "example_reports"},
                                                "changed": ["labels.cost_center"]}]  # fmt: skip
    assert b"finance" not in detected.body  # the values changed outside Hangar are not sent
    payload = back.json()
    assert payload["event"] == "drift.resolved" and payload["summary"]["check_id"] == resolved.pk
    assert payload["summary"]["previously_drifted"] == [drifted[0]["address"]]


def test_a_shared_airflow_change_that_failed_is_sent_to_the_member_project(deliver_inline, receiver, project, lead,
                                                                           localcloud, media, settings):  # fmt: skip
    from onboarding.shared_composer.services import shared_onboard

    settings.SHARED_COMPOSER_PROMOTION = "approval"
    hook(project, lead, receiver, ["shared_composer.change_finished"])
    change = shared_onboard(project=project, user=lead)
    [run] = Run.objects.filter(artifact=change.artifact)
    runs.run_dispatch(deployment_id=run.deployment_id)
    runs.run_claim(run_id=run.pk, worker="test-host")
    runs.run_finish(run=Run.objects.get(pk=run.pk), status="failed", error="Error: the cloud said no")
    payload = receiver.wait(1)[0].json()
    assert payload["event"] == "shared_composer.change_finished"
    assert payload["project"]["slug"] == project.slug and payload["actor"] == "alice"
    assert payload["summary"] == {"change_id": change.pk, "kind": SharedChange.Kind.ONBOARD, "version": "0.1.0",
                                  "outcome": "failed", "stage": "dev", "stages": {"dev": "failed"}}  # fmt: skip
    assert payload["url"].endswith(f"/shared-composer/changes/{change.pk}/")


def test_sandbox_events_have_an_entry_point(deliver_inline, receiver, project, lead):
    hook(project, lead, receiver, ["sandbox.expiring", "sandbox.destroy_failed"])
    services.notify("sandbox.expiring", project=project, environment="dev", name="feature-x",
                    expires_at=None, actor="alice")  # fmt: skip
    services.notify("sandbox.destroyed", project=project, environment="dev", name="feature-x")  # not wanted
    services.notify("sandbox.destroy_failed", project=project, environment="dev", name="feature-x",
                    error="Error: bucket not empty")  # fmt: skip
    expiring, failed = (received.json() for received in receiver.wait(2))
    assert expiring["event"] == "sandbox.expiring" and expiring["summary"]["sandbox"] == "feature-x"
    assert failed["summary"]["error"] == "Error: bucket not empty"
    assert Delivery.objects.count() == 2
    with pytest.raises(ValueError, match="unknown event"):
        services.notify("sandbox.exploded", project=project, environment="dev", name="x")


def test_a_sandbox_close_to_expiry_is_announced_once(deliver_inline, receiver, project, lead, upload, settings):
    from datetime import timedelta

    from django.utils import timezone

    from deployments.sandboxes import services as sandboxes
    from deployments.sandboxes.models import Sandbox

    settings.SANDBOX_WARN_BEFORE = 3600
    upload(project, lead, "0.1.0")
    hook(project, lead, receiver, ["sandbox.expiring"])
    sandbox = sandboxes.sandbox_create(project=project, version="0.1.0", user=lead, ttl_hours=1)
    Sandbox.objects.filter(pk=sandbox.pk).update(expires_at=timezone.now() + timedelta(minutes=30))
    assert sandboxes.sandbox_sweep()["warned"] == [sandbox.pk]
    assert sandboxes.sandbox_sweep()["warned"] == []  # once
    [received] = receiver.wait(1)
    payload = received.json()
    assert payload["event"] == "sandbox.expiring" and payload["summary"]["sandbox"] == sandbox.name
    assert payload["actor"] == lead.get_username() and payload["url"].endswith(f"#sandbox-{sandbox.pk}")
    assert Delivery.objects.count() == 1


def test_every_event_is_documented():
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "notifications.md").read_text()
    for name in [*EVENTS, "destination.test"]:
        assert f"`{name}`" in docs, name
