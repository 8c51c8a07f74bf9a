"""Who manages destinations: the project's team leads and admins. Members and viewers read; the rest get 404."""

import pytest
from django.urls import reverse

from notifications import services
from notifications.models import Delivery, Destination
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db

FORM = {"kind": "webhook", "name": "hook", "url": "http://127.0.0.1:9/hook", "events": ["run.failed"],
        "success_environments": ["prod"], "to_team": "team"}  # fmt: skip


@pytest.fixture
def destination(project, lead, allow_private):
    return services.destination_create(user=lead, project=project, kind="webhook", name="hook",
                                       events=["run.failed"], url="http://127.0.0.1:9/hook").destination  # fmt: skip


@pytest.fixture
def delivery(destination):
    return Delivery.objects.create(destination=destination, event="run.failed", payload={"event": "run.failed"},
                                   status="failed")  # fmt: skip


def management_posts(destination, delivery):
    return [
        (reverse("project_notifications", args=[destination.project.slug]), FORM),
        (reverse("notification_destination_edit", args=[destination.pk]), {**FORM, "name": "renamed"}),
        (reverse("notification_destination_test", args=[destination.pk]), {}),
        (reverse("notification_destination_resume", args=[destination.pk]), {}),
        (reverse("notification_destination_secret", args=[destination.pk]), {}),
        (reverse("notification_redeliver", args=[delivery.pk]), {}),
        (reverse("notification_destination_delete", args=[destination.pk]), {}),
    ]


@pytest.mark.parametrize("who", ["viewer", "member"])
def test_viewers_and_members_see_destinations_but_cannot_manage_them(request, who, destination, delivery, client_for):
    client = client_for(request.getfixturevalue(who))
    tab = client.get(reverse("project_notifications", args=[destination.project.slug]))
    assert tab.status_code == 200 and "hook" in tab.text and "Add destination" not in tab.text
    page = client.get(destination.get_absolute_url())
    assert page.status_code == 200 and "Send test" not in page.text and "Redeliver" not in page.text
    for url, data in management_posts(destination, delivery):
        assert client.post(url, data).status_code == 403, url
    assert Destination.objects.get(pk=destination.pk).name == "hook"
    assert Delivery.objects.count() == 1
    assert not AuditEvent.objects.filter(action__startswith="notification.").exclude(actor__username="alice").exists()


def test_other_teams_get_404(destination, delivery, outsider, client_for):
    client = client_for(outsider)
    assert client.get(reverse("project_notifications", args=[destination.project.slug])).status_code == 404
    assert client.get(destination.get_absolute_url()).status_code == 404
    for url, data in management_posts(destination, delivery):
        assert client.post(url, data).status_code == 404, url


def test_a_lead_adds_sees_the_secret_once_and_deletes(project, lead, client_for, allow_private):
    client = client_for(lead)
    response = client.post(reverse("project_notifications", args=[project.slug]), FORM)
    assert response.status_code == 201
    destination = Destination.objects.get()
    secret = response.context["secret"]
    assert secret.startswith("whsec_") and secret in response.text
    assert secret not in client.get(destination.get_absolute_url()).text  # shown once
    assert AuditEvent.objects.filter(action="notification.destination.create", actor=lead).exists()
    client.post(reverse("notification_destination_delete", args=[destination.pk]))
    assert not Destination.objects.exists()
    assert AuditEvent.objects.filter(action="notification.destination.delete", actor=lead).exists()


def test_the_form_says_what_is_wrong(project, lead, client_for):
    response = client_for(lead).post(reverse("project_notifications", args=[project.slug]),
                                     {**FORM, "url": "http://169.254.169.254/", "events": []})  # fmt: skip
    assert response.status_code == 400
    assert "link-local" in response.text and "This field is required" in response.text
    assert not Destination.objects.exists()


def test_admins_manage_every_project_and_the_destinations_for_all_projects(project, admin_user, lead, client_for,
                                                                           allow_private):  # fmt: skip
    client = client_for(admin_user)
    assert client.post(reverse("project_notifications", args=[project.slug]), FORM).status_code == 201
    assert client.post(reverse("notifications_global"), {**FORM, "name": "everything"}).status_code == 201
    assert Destination.objects.filter(project__isnull=True, name="everything").exists()
    lead_client = client_for(lead)
    assert lead_client.get(reverse("notifications_global")).status_code == 403
    everything = Destination.objects.get(name="everything")
    assert lead_client.get(everything.get_absolute_url()).status_code == 404


def test_a_lead_changes_the_events_and_keeps_the_address(destination, lead, client_for, settings):
    client = client_for(lead)
    edit = {"name": "renamed", "events": ["run.failed", "drift.detected"], "success_environments": ["prod"]}
    response = client.post(reverse("notification_destination_edit", args=[destination.pk]), edit)
    assert response.status_code == 302
    destination.refresh_from_db()
    assert destination.name == "renamed" and destination.events == ["run.failed", "drift.detected"]
    assert destination.url_display == "http://127.0.0.1:9/…"
    assert AuditEvent.objects.filter(action="notification.destination.update", actor=lead).exists()
    settings.WEBHOOK_ALLOW_PRIVATE = False
    refused = client.post(reverse("notification_destination_edit", args=[destination.pk]),
                          {**edit, "url": "http://169.254.169.254/"})  # fmt: skip
    assert refused.status_code == 400 and "link-local" in refused.text


def test_a_new_secret_is_shown_once_and_replaces_the_old_one(destination, lead, client_for):
    from notifications import crypto

    before = crypto.decrypt(Destination.objects.get(pk=destination.pk).secret_encrypted)
    response = client_for(lead).post(reverse("notification_destination_secret", args=[destination.pk]))
    secret = response.context["secret"]
    assert secret in response.text and secret != before
    assert crypto.decrypt(Destination.objects.get(pk=destination.pk).secret_encrypted) == secret
