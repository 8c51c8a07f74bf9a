import pytest
from django.urls import reverse

from portal.audit import audit_record
from portal.models import AuditEvent


def test_audit_events_cannot_be_changed_or_deleted(lead):
    event = audit_record(actor=lead, action="test.thing")
    event.action = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


def test_admins_see_the_audit_trail_but_cannot_edit_it(client_for, admin_user, project):
    client = client_for(admin_user)
    event = AuditEvent.objects.get(action="project.register")
    assert client.get(reverse("admin:portal_auditevent_changelist")).status_code == 200
    page = client.get(reverse("admin:portal_auditevent_change", args=[event.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.text
    assert client.post(reverse("admin:portal_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_every_model_has_a_working_admin_list(client_for, admin_user, project):
    client = client_for(admin_user)
    for name in ["onboarding_team", "onboarding_project", "onboarding_environment", "onboarding_membership"]:
        assert client.get(reverse(f"admin:{name}_changelist"), {"q": "example"}).status_code == 200
