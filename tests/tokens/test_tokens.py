"""API tokens (issue 16): hashed, expiring, revocable; personal tokens on the profile, project CI
tokens scoped to one project with one role; creation and revocation audited."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from deployments.runs.models import Run
from onboarding import services as onboarding
from onboarding.models import Role
from portal.models import AuditEvent
from tokens.models import ApiToken, Kind
from tokens.services import create_personal_token, create_project_token, revoke_token

pytestmark = pytest.mark.django_db


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_personal_token_is_stored_hashed_and_shown_once(client_for, member, project):
    client = client_for(member)
    response = client.post(reverse("profile_tokens"), {"name": "laptop", "expires_in_days": "30"})
    assert response.status_code == 201
    key = response.context["new_key"]
    assert key.startswith("hangar_") and key in response.text
    token = ApiToken.objects.get(user=member)
    assert key not in (token.digest, token.token_key) and token.token_key == key[:15]
    assert timedelta(days=29) < token.expiry - timezone.now() <= timedelta(days=30)
    # The list shows its name, expiry and last use, never the key again.
    page = client.get(reverse("profile_tokens"))
    assert "laptop" in page.text and key not in page.text and "never" in page.text
    assert api(key).get("/api/projects/").json()["results"][0]["slug"] == project.slug
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert "laptop" in client.get(reverse("profile_tokens")).text


def test_no_credentials_and_unknown_tokens_are_401(db):
    assert APIClient().get("/api/projects/").status_code == 401
    response = api("hangar_" + "0" * 64).get("/api/projects/")
    assert response.status_code == 401 and "no such token" in response.json()["detail"]
    assert response["WWW-Authenticate"] == "Token"


def test_an_expired_token_is_401_saying_so(member):
    token, key = create_personal_token(user=member, name="old", days=1, by=member)
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(minutes=1))
    response = api(key).get("/api/projects/")
    assert response.status_code == 401
    assert "This token ('old') expired on" in response.json()["detail"]
    assert ApiToken.objects.filter(pk=token.pk).exists()  # kept: the answer can say why


def test_a_revoked_token_is_401_saying_so_and_both_are_audited(client_for, member):
    token, key = create_personal_token(user=member, name="laptop", by=member)
    assert api(key).get("/api/me/").json()["token"]["name"] == "laptop"
    response = client_for(member).post(reverse("profile_token_revoke", args=[token.digest]))
    assert response.status_code == 302
    response = api(key).get("/api/projects/")
    assert response.status_code == 401
    assert "This token ('laptop') was revoked on" in response.json()["detail"]
    assert "by bob" in response.json()["detail"]
    actions = list(AuditEvent.objects.filter(action__startswith="api_token.").values_list("action", flat=True))
    assert sorted(actions) == ["api_token.create", "api_token.revoke"]
    assert all(key not in str(event.details) for event in AuditEvent.objects.all())


def test_someone_else_cannot_revoke_my_token(client_for, member, viewer):
    token, key = create_personal_token(user=member, name="laptop", by=member)
    assert client_for(viewer).post(reverse("profile_token_revoke", args=[token.digest])).status_code == 404
    assert api(key).get("/api/projects/").status_code == 200


def test_only_a_lead_creates_ci_tokens_on_the_details_tab(client_for, lead, member, project):
    url = reverse("project_token_create", args=[project.slug])
    form = {"name": "gitlab", "role": "member", "expires_in_days": "90"}
    refused = client_for(member).post(url, form)
    assert refused.status_code == 403 and not ApiToken.objects.exists()
    response = client_for(lead).post(url, form)
    assert response.status_code == 201
    key = response.context["new_key"]
    token = ApiToken.objects.get(kind=Kind.PROJECT)
    assert token.project == project and token.role == "member" and token.created_by == lead
    assert token.user.username == "CI token gitlab (created by alice)" and not token.user.has_usable_password()
    details = client_for(lead).get(reverse("project_details", args=[project.slug]))
    assert "gitlab" in details.text and key not in details.text
    event = AuditEvent.objects.get(action="api_token.create")
    assert event.object_id == str(project.pk) and event.details["token"] == "gitlab" and event.actor == lead


def test_a_ci_token_reaches_its_project_only(lead, team, project, member, upload):
    other = onboarding.project_register(service_control_id=124, name="other", team=team, user=lead)
    upload(project, member, "0.1.0")
    _, key = create_project_token(project=project, name="deploy", role="member", by=lead)
    client = api(key)
    assert [p["slug"] for p in client.get("/api/projects/").json()["results"]] == [project.slug]
    assert client.get(f"/api/projects/{project.slug}/").status_code == 200
    # Another project of the same team is as invisible as any other: 404.
    assert client.get(f"/api/projects/{other.slug}/").status_code == 404
    assert client.get(f"/api/projects/{other.slug}/artifacts/").status_code == 404
    body = {"project": other.slug, "environment": "dev", "target": "local", "version": "0.1.0"}
    assert client.post("/api/runs/", body, format="json").status_code in (400, 404)
    assert client.get("/api/teams/").json()["results"] == []
    # It cannot register projects in the team either.
    assert client.post("/api/projects/", {"service_control_id": 9, "name": "x", "team": team.slug}).status_code in (
        400,
        403,
    )
    # Its own project: it deploys, recorded under its readable name.
    response = client.post("/api/runs/", {**body, "project": project.slug}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["requested_by"] == "CI token deploy (created by alice)"
    run = Run.objects.get(pk=response.json()["id"])
    assert str(run.requested_by) == "CI token deploy (created by alice)"


def test_a_viewer_ci_token_only_reads(lead, project, member, upload):
    upload(project, member, "0.1.0")
    _, key = create_project_token(project=project, name="dashboards", role="viewer", by=lead)
    client = api(key)
    assert client.get(f"/api/projects/{project.slug}/artifacts/").status_code == 200
    body = {"project": project.slug, "environment": "dev", "target": "local", "version": "0.1.0"}
    assert client.post("/api/runs/", body, format="json").status_code == 403


def test_a_revoked_ci_token_stops_at_once_and_cannot_join_a_team(lead, team, project):
    token, key = create_project_token(project=project, name="deploy", role="member", by=lead)
    with pytest.raises(Exception, match="not a person"):
        onboarding.team_set_member(team=team, user=token.user, role=Role.MEMBER, by=lead)
    assert revoke_token(token=token, by=lead)
    response = api(key).get("/api/projects/")
    assert response.status_code == 401 and "was revoked" in response.json()["detail"]
    assert AuditEvent.objects.filter(action="api_token.revoke", object_id=str(project.pk)).exists()


def test_drf_tokens_are_imported_hashed_with_an_expiry(member, project):
    """The migration from DRF's clear tokens: the old key keeps working for 90 days, and is no longer stored."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("tokens.migrations.0002_import_drf_tokens")
    old_key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp with time zone, user_id integer)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", [old_key, member.pk])
    with connection.schema_editor() as editor:
        migration.import_drf_tokens(apps, editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
    token = ApiToken.objects.get(user=member)
    assert token.name == migration.IMPORTED_NAME and token.expiry > timezone.now() + timedelta(days=89)
    assert api(old_key).get("/api/projects/").json()["results"][0]["slug"] == project.slug


def test_a_lead_revokes_a_ci_token_on_the_details_tab_and_a_member_cannot(client_for, lead, member, project):
    token, key = create_project_token(project=project, name="deploy", role="member", by=lead)
    url = reverse("project_token_revoke", args=[project.slug, token.digest])
    client_for(member).post(url)
    assert api(key).get("/api/projects/").status_code == 200  # a member may not revoke it
    assert client_for(lead).post(url).status_code == 302
    assert api(key).get("/api/projects/").status_code == 401
    page = client_for(lead).get(reverse("project_details", args=[project.slug]))
    assert "revoked" in page.text and "by alice" in page.text


def test_admins_revoke_tokens_in_admin_and_it_is_audited(client_for, admin_user, member):
    token, key = create_personal_token(user=member, name="laptop", by=member)
    client = client_for(admin_user)
    assert client.get(reverse("admin:tokens_apitoken_changelist")).status_code == 200
    response = client.post(
        reverse("admin:tokens_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    assert api(key).get("/api/projects/").status_code == 401
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert event.actor == admin_user and event.details["owner"] == "bob"
