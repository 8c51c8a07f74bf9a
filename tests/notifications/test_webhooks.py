"""Webhooks to a real HTTP receiver on 127.0.0.1: signed payloads of real run events, retries with backoff on a
real Celery worker, and pausing a destination that keeps failing."""

import json

import pytest
from django.urls import reverse

from deployments.runs import executor
from deployments.runs import services as runs
from notifications import services
from notifications.models import Delivery, Destination
from onboarding import services as onboarding
from portal.models import AuditEvent
from tests.deployments.conftest import wait_for
from tests.deployments.planned import parked_run
from tests.notifications.conftest import verify

RUN_EVENTS = ["run.failed", "run.approval_needed", "run.confirmation_needed", "run.succeeded"]


def webhook(project, lead, receiver, *, events=RUN_EVENTS, kind="webhook", name="CI hook"):
    return services.destination_create(user=lead, project=project, kind=kind, name=name, events=events,
                                       url=receiver.url)  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_failed_run_reaches_the_receiver_signed(deliver_inline, receiver, upload, project, lead, settings, tmp_path):
    saved = webhook(project, lead, receiver)
    assert saved.secret.startswith("whsec_")
    destination = Destination.objects.get(pk=saved.destination.pk)
    assert saved.secret not in destination.secret_encrypted and "127.0.0.1" not in destination.url_encrypted
    upload(project, lead, "0.1.0")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.RUN_WORKSPACE_DIR = blocker / "runs"  # the run fails on the worker: its workspace cannot be made
    run = runs.run_start(project=project, environment="dev", target="local", version="0.1.0", operation="apply",
                         user=lead)  # fmt: skip
    executor.run_execute(run_id=run.pk, worker="test-host")
    run.refresh_from_db()
    assert run.status == "failed"

    [received] = receiver.wait(1)
    assert received.path == "/hooks/hangar?team=data"
    assert received.headers["content-type"] == "application/json"
    assert received.headers["x-hangar-event"] == "run.failed"
    assert verify(saved.secret, received.headers["x-hangar-signature"], received.body)
    assert not verify("whsec_someone-else", received.headers["x-hangar-signature"], received.body)
    assert not verify(saved.secret, received.headers["x-hangar-signature"], received.body + b" ")
    payload = received.json()
    assert payload["event"] == "run.failed" and payload["id"] == received.headers["x-hangar-delivery"]
    assert payload["project"] == {"slug": "sc-123-example", "name": "example", "team": "data-engine"}
    assert (payload["environment"], payload["target"], payload["actor"]) == ("dev", "local", "alice")
    assert payload["run"] == {"id": run.pk, "url": f"{settings.SITE_URL}/runs/{run.pk}/", "operation": "apply",
                              "version": "0.1.0", "status": "failed"}  # fmt: skip
    assert "could not create this run's workspace" in payload["summary"]["error"]
    assert "failed" in payload["text"]
    delivery = Delivery.objects.get(destination=destination)
    assert delivery.status == "succeeded" and delivery.attempts == 1
    attempt = delivery.attempt_log.get()
    assert attempt.status_code == 200 and attempt.latency_ms is not None and '"received": 1' in attempt.response_start


@pytest.mark.django_db(transaction=True)
def test_an_approval_request_reaches_the_receiver_signed(deliver_inline, receiver, upload, project, lead, member):
    saved = webhook(project, lead, receiver)
    upload(project, lead, "0.1.0")
    onboarding.project_set_prod_approval(project=project, required=True, user=lead)
    run = parked_run(project, member, environment="prod")  # planned by a (pretend) worker, parked by run_park
    assert run.awaiting_approval

    [received] = receiver.wait(1)
    assert verify(saved.secret, received.headers["x-hangar-signature"], received.body)
    payload = received.json()
    assert payload["event"] == "run.approval_needed" and payload["actor"] == "bob"
    assert payload["environment"] == "prod" and payload["run"]["status"] == "planned"
    assert payload["summary"]["plan"] == {"add": 1, "change": 0, "destroy": 0}
    assert payload["summary"]["reasons"] == ["production changes need a second team lead's approval"]
    assert payload["summary"]["expires_at"].endswith("Z")


@pytest.mark.django_db(transaction=True)
def test_a_plan_waiting_for_confirmation_goes_to_those_who_want_it_only(deliver_inline, receiver, upload, project,
                                                                          lead):  # fmt: skip
    webhook(project, lead, receiver, events=["run.failed"], name="failures only")
    webhook(project, lead, receiver, events=["run.confirmation_needed"], name="confirmations")
    upload(project, lead, "0.1.0")
    parked_run(project, lead, environment="prod")
    [received] = receiver.wait(1)
    assert received.json()["event"] == "run.confirmation_needed"
    assert Delivery.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_chat_gets_a_slack_compatible_message(deliver_inline, receiver, upload, project, lead):
    webhook(project, lead, receiver, kind="chat", name="team chat")
    upload(project, lead, "0.1.0")
    parked_run(project, lead, environment="prod")
    message = receiver.wait(1)[0].json()
    assert set(message) == {"text", "blocks"}
    assert message["text"].startswith("Run needs confirmation: sc-123-example prod/local")
    assert "<http://" in message["blocks"][0]["text"]["text"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_receiver_that_fails_twice_gets_the_delivery_on_the_third_attempt(notify_worker, receiver, project, lead,
                                                                             client_for, settings):  # fmt: skip
    settings.WEBHOOK_ALLOW_PRIVATE = True
    receiver.script = [500, 500, 200]
    notify_worker(WEBHOOK_MAX_ATTEMPTS="5", WEBHOOK_BACKOFF_SECONDS="0.3")
    saved = webhook(project, lead, receiver)
    delivery = services.send_test(destination=saved.destination, user=lead)

    def delivered():
        delivery.refresh_from_db()
        return delivery.status != "pending"

    wait_for(delivered, timeout=60, message="the delivery to end")
    assert delivery.status == "succeeded" and delivery.attempts == 3
    bodies = [received.body for received in receiver.requests]
    assert len(bodies) == 3 and len(set(bodies)) == 1  # the same payload each time, each signed afresh
    for received in receiver.requests:
        assert verify(saved.secret, received.headers["x-hangar-signature"], received.body)
    assert [a.status_code for a in delivery.attempt_log.order_by("number")] == [500, 500, 200]
    page = client_for(lead).get(reverse("notification_destination", args=[saved.destination.pk])).text
    assert page.count('class="attempt bad"') == 2 and page.count('class="attempt ok"') == 1
    assert "Delivered" in page and "HTTP 500" in page


@pytest.mark.django_db(transaction=True)
def test_a_receiver_that_always_fails_gets_the_destination_paused(deliver_inline, receiver, project, lead, settings,
                                                                   mailoutbox, upload, client_for):  # fmt: skip
    lead.email = "alice@example.com"
    lead.save()
    settings.WEBHOOK_MAX_ATTEMPTS, settings.WEBHOOK_PAUSE_AFTER = 2, 2
    receiver.script = [503]
    saved = webhook(project, lead, receiver)
    destination = saved.destination
    services.send_test(destination=destination, user=lead)
    destination.refresh_from_db()
    assert not destination.paused and destination.consecutive_failures == 1
    services.send_test(destination=destination, user=lead)
    destination.refresh_from_db()
    assert destination.paused and "2 failed deliveries in a row" in destination.pause_reason
    assert len(receiver.requests) == 4  # two deliveries, two attempts each
    [told] = [m for m in mailoutbox if "paused" in m.subject]
    assert told.to == ["alice@example.com"] and destination.name in told.body
    assert AuditEvent.objects.filter(action="notification.destination.paused").exists()

    # While paused, events do not reach it.
    upload(project, lead, "0.1.0")
    parked_run(project, lead, environment="prod")
    assert len(receiver.requests) == 4 and Delivery.objects.filter(destination=destination).count() == 2

    # Resume (a lead) and redeliver what failed: the receiver works again.
    receiver.script = [200]
    client = client_for(lead)
    assert "Paused" in client.get(destination.get_absolute_url()).text
    client.post(reverse("notification_destination_resume", args=[destination.pk]))
    failed = Delivery.objects.filter(destination=destination).order_by("id").first()
    client.post(reverse("notification_redeliver", args=[failed.pk]))
    again = Delivery.objects.get(redelivery_of=failed)
    assert again.status == "succeeded" and again.event_id == failed.event_id
    assert json.loads(receiver.requests[-1].body)["id"] == str(failed.event_id)
    destination.refresh_from_db()
    assert not destination.paused and destination.consecutive_failures == 0


@pytest.mark.django_db(transaction=True)
def test_the_log_keeps_the_newest_deliveries(deliver_inline, receiver, project, lead, monkeypatch):
    monkeypatch.setattr(services, "DELIVERY_KEEP", 2)
    destination = webhook(project, lead, receiver).destination
    sent = [services.send_test(destination=destination, user=lead).pk for _ in range(3)]
    assert (
        list(Delivery.objects.filter(destination=destination).order_by("id").values_list("pk", flat=True)) == sent[1:]
    )
