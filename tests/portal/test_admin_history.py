"""Django admin keeps Hangar's rules and history: teams, memberships and projects are read-only there
(changed through Hangar's pages and services), history cannot be deleted, not even by a cascade, and
accounts and API tokens are audited however they are made."""

import pytest
from django.contrib.auth import get_user_model
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone

from deployments.artifacts.models import Artifact
from deployments.runs.models import Deployment, LogLine, Run, RunTransition
from deployments.state.models import StateVersion
from onboarding.models import Membership
from portal.models import AuditEvent
from tokens.services import create_personal_token, revoke_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(project, lead):
    artifact = Artifact.objects.create(
        project=project, version="0.1.0", version_key="x", sha256="0" * 64, size=1, file="artifacts/none.zip",
        manifest={},
    )  # fmt: skip
    unused = Artifact.objects.create(
        project=project, version="0.2.0", version_key="y", sha256="1" * 64, size=1, file="artifacts/none2.zip",
        manifest={},
    )  # fmt: skip
    deployment = Deployment.objects.create(environment=project.environments.get(name="dev"), target="local")
    run = Run.objects.create(deployment=deployment, artifact=artifact, status="succeeded", requested_by=lead)
    RunTransition.objects.create(run=run, status="succeeded")
    LogLine.objects.create(run=run, seq=1, at=timezone.now(), message="hello")
    version = StateVersion.objects.create(
        deployment=deployment, serial=1, lineage="l", sha256="2" * 64, size=2, data=b"{}", run=run
    )
    return {"artifact": unused, "deployment": deployment, "run": run, "state": version}


def test_teams_memberships_and_projects_are_read_only_in_admin_with_links(
    client_for, admin_user, team, project, member
):
    client = client_for(admin_user)
    membership = Membership.objects.get(user=member)
    for model, obj, page in [
        ("onboarding_team", team, team.get_absolute_url()),
        ("onboarding_membership", membership, team.get_absolute_url()),
        ("onboarding_project", project, project.get_absolute_url()),
    ]:
        listing = client.get(reverse(f"admin:{model}_changelist"))
        assert listing.status_code == 200 and f'href="{page}"' in listing.text, model
        change = client.get(reverse(f"admin:{model}_change", args=[obj.pk]))
        assert change.status_code == 200 and 'name="_save"' not in change.text, model
        assert client.post(reverse(f"admin:{model}_change", args=[obj.pk]), {"name": "x"}).status_code == 403
        assert client.get(reverse(f"admin:{model}_add")).status_code == 403, model
        assert client.post(reverse(f"admin:{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    membership.refresh_from_db()
    assert membership.role == "member" and Membership.objects.filter(pk=membership.pk).exists()


def test_history_cannot_be_deleted_in_admin(client_for, admin_user, history):
    client = client_for(admin_user)
    for model, obj in [
        ("deployments_artifact", history["artifact"]),
        ("deployments_deployment", history["deployment"]),
        ("deployments_run", history["run"]),
        ("deployments_stateversion", history["state"]),
        ("deployments_logline", history["run"].log_lines.get()),
    ]:
        assert client.post(reverse(f"admin:{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403, model
        assert type(obj).objects.filter(pk=obj.pk).exists(), model


def test_history_cannot_be_deleted_by_a_cascade(project, history):
    run, deployment = history["run"], history["deployment"]
    with pytest.raises(ProtectedError):
        run.delete()  # its transitions and log lines
    with pytest.raises(ProtectedError):
        deployment.delete()  # its runs and state versions
    with pytest.raises(ProtectedError):
        deployment.environment.delete()
    with pytest.raises(ProtectedError):
        project.delete()
    assert RunTransition.objects.filter(run=run).exists() and LogLine.objects.filter(run=run).exists()
    assert StateVersion.objects.filter(deployment=deployment).exists()


def test_creating_users_and_api_tokens_is_audited(client_for, admin_user):
    user = get_user_model().objects.create_user(username="newbie", password="x-Strong-pass-1")
    event = AuditEvent.objects.get(action="user.create", object_id=str(user.pk))
    assert event.details["username"] == "newbie" and event.actor_name == "system"

    client = client_for(admin_user)
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "added",
            "password1": "x-Strong-pass-1",
            "password2": "x-Strong-pass-1",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    added = get_user_model().objects.get(username="added")
    assert AuditEvent.objects.get(action="user.create", object_id=str(added.pk)).actor_name == admin_user.username

    token, key = create_personal_token(user=user, name="laptop", by=user)
    event = AuditEvent.objects.get(action="api_token.create")
    assert event.object_id == str(user.pk) and key not in str(event.details) + event.object_repr
    assert token.digest not in str(event.details)
    revoke_token(token=token, by=user)
    assert AuditEvent.objects.filter(action="api_token.revoke", object_id=str(user.pk)).exists()
