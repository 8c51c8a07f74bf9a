"""E-mail destinations, through Django's mail framework: to the team or to chosen members, never to those who
opted out in their profile."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from notifications import services
from notifications.models import Delivery, NotificationPreference
from tests.deployments.planned import parked_run


@pytest.fixture
def addressed(lead, member, viewer):
    for user in (lead, member, viewer):
        user.email = f"{user.username}@example.com"
        user.save()
    return lead, member, viewer


def email_destination(project, lead, **extra):
    return services.destination_create(user=lead, project=project, kind="email", name="team mail",
                                       events=["run.confirmation_needed"], **extra).destination  # fmt: skip


def notification_mails(mailoutbox):
    return sorted((tuple(message.to), message.subject) for message in mailoutbox)


@pytest.mark.django_db(transaction=True)
def test_mail_goes_to_the_team_except_those_who_opted_out(deliver_inline, addressed, project, lead, viewer, upload,
                                                          mailoutbox, make_user):  # fmt: skip
    make_user("olga", email="olga@example.com")  # not in the team
    NotificationPreference.objects.create(user=viewer, email_opt_out=True)
    email_destination(project, lead)
    upload(project, lead, "0.1.0")
    run = parked_run(project, lead, environment="prod")
    subject = "[Hangar] Run needs confirmation: sc-123-example prod"
    assert notification_mails(mailoutbox) == [(("alice@example.com",), subject), (("bob@example.com",), subject)]
    body = mailoutbox[0].body
    assert f"/runs/{run.pk}/" in body and "waits for a confirmation" in body and "/profile/" in body
    delivery = Delivery.objects.get()
    assert delivery.status == "succeeded"
    assert delivery.attempt_log.get().response_start == "sent to 2: alice@example.com, bob@example.com"


@pytest.mark.django_db(transaction=True)
def test_mail_goes_to_the_chosen_members_only(deliver_inline, addressed, project, lead, member, upload, mailoutbox):
    email_destination(project, lead, to_team=False, recipients=[member])
    upload(project, lead, "0.1.0")
    parked_run(project, lead, environment="prod")
    assert [message.to for message in mailoutbox] == [["bob@example.com"]]


def test_only_members_of_the_team_can_be_chosen(db, project, lead, outsider):
    with pytest.raises(ValidationError, match="Not in Data Engine: mallory"):
        email_destination(project, lead, to_team=False, recipients=[outsider])


def test_a_user_opts_out_in_the_profile(client_for, member, db):
    client = client_for(member)
    assert "Send me no notification e-mail" in client.get(reverse("profile")).text
    client.post(reverse("profile"), {"email_opt_out": "on"})
    assert NotificationPreference.objects.get(user=member).email_opt_out
    client.post(reverse("profile"), {})
    assert not NotificationPreference.objects.get(user=member).email_opt_out


def test_a_test_mail_of_a_destination_for_all_projects_goes_to_the_admin_who_sent_it(
    db, deliver_inline, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    admin_user.email = "root@example.com"
    admin_user.save()
    saved = services.destination_create(user=admin_user, project=None, kind="email", name="ops",
                                        events=["run.failed"])  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        services.send_test(destination=saved.destination, user=admin_user)
    [message] = mailoutbox
    assert message.to == ["root@example.com"] and message.subject == "[Hangar] Test"
