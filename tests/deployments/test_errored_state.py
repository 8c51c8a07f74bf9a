"""A state Terraform could not save is kept with its run, and an admin pushes it back."""

import json

import pytest
from django.core.management import call_command
from django.test import Client

from deployments.runs.choices import RunStatus
from deployments.state import services as state_services
from deployments.state.models import ErroredState, StateVersion
from portal.models import AuditEvent

pytestmark = [pytest.mark.terraform, pytest.mark.django_db(transaction=True)]


def test_a_failed_state_write_keeps_errored_tfstate_and_an_admin_pushes_it_back(
    run_here, upload, project, lead, admin_user, monkeypatch
):
    upload(project, lead, "0.1.0", tables=["a"])
    monkeypatch.setattr(state_services, "MAX_STATE_BYTES", 600)  # every real state is refused: 413
    failed = run_here(project, lead, "0.1.0")
    assert failed.status == RunStatus.FAILED
    assert "errored.tfstate" in failed.error and "push it back" in failed.error
    [errored] = ErroredState.objects.filter(run=failed)
    state = json.loads(bytes(errored.data))
    assert any(r["type"] == "localcloud_table" for r in state["resources"]), state["resources"]
    [seed] = StateVersion.objects.all()  # only the empty state Hangar starts a new deployment with
    assert seed.serial == 0 and json.loads(bytes(seed.data))["resources"] == []
    assert state["lineage"] == seed.lineage and state["serial"] > 0
    assert failed.log_lines.filter(message__contains="Hangar kept it with this run").exists()

    monkeypatch.setattr(state_services, "MAX_STATE_BYTES", 64 * 1024 * 1024)
    client = Client()
    client.force_login(admin_user)
    base = f"/projects/{project.slug}/deployments/dev/local/state/"
    page = client.get(base)
    assert page.status_code == 200 and b"States Terraform could not save" in page.content
    download = client.get(f"{base}errored/{errored.pk}/")
    assert download.status_code == 200 and download.content == bytes(errored.data)
    client.force_login(lead)
    assert client.post(f"{base}errored/{errored.pk}/push/").status_code == 403

    call_command("state_push_errored", str(errored.pk), "--user", admin_user.username)
    version = StateVersion.objects.latest("id")
    assert bytes(version.data) == bytes(errored.data) and version.serial == state["serial"]
    event = AuditEvent.objects.get(action="state.push_errored")
    assert event.actor == admin_user and event.details["errored_state"] == errored.pk

    # The resources are no longer orphaned: the next apply finds them in the state.
    again = run_here(project, lead, "0.1.0")
    assert again.status == RunStatus.SUCCEEDED, again.error
    assert (again.to_add, again.to_destroy) == (0, 0)
