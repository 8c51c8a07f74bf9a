"""The shared Airflow's platform team and project are reserved (issue 11): a migration creates them,
nobody registers them by hand, and its leads are named only by the setup command or a platform lead."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from onboarding import services
from onboarding.models import Membership, Project, Role, Team
from onboarding.shared_composer.services import SYSTEM_USERNAME, shared_platform_project
from portal.models import AuditEvent
from tokens.services import create_personal_token

pytestmark = pytest.mark.django_db

RESERVED = "is reserved for the shared Airflow platform"


@pytest.fixture
def api(lead):
    client = APIClient()
    _, key = create_personal_token(user=lead, name="tests", by=lead)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# The migration ----------------------------------------------------------------------


def test_the_migration_created_the_platform_team_and_project_without_a_lead(platform_identity):
    project = platform_identity
    assert (project.slug, project.service_control_id, project.name, project.team.slug) == (
        "sc-1-msc",
        1,
        "msc",
        "platform",
    )
    assert list(project.environments.values_list("gcp_project_id", flat=True)) == [
        "sc-1-msc-dev",
        "sc-1-msc-test",
        "sc-1-msc-prod",
    ]
    assert list(project.team.memberships.values_list("user__username", "role")) == [(SYSTEM_USERNAME, Role.MEMBER)]
    assert AuditEvent.objects.filter(action="project.register", object_repr="sc-1-msc", actor=None).exists()


def test_the_ensure_function_uses_the_reserved_ones_and_names_no_lead(platform_identity, lead):
    assert shared_platform_project().pk == platform_identity.pk
    assert Project.objects.filter(slug="sc-1-msc").count() == 1 and Team.objects.filter(slug="platform").count() == 1
    assert not platform_identity.team.memberships.filter(role=Role.LEAD).exists()


def test_the_ensure_function_recreates_them_when_missing(lead):
    # This test's database lacks them (tests/conftest.py removes them unless asked for).
    project = shared_platform_project()
    assert project.slug == "sc-1-msc" and project.team.slug == "platform"
    assert not project.team.memberships.filter(role=Role.LEAD).exists()


# Nobody registers them by hand ---------------------------------------------------------


@pytest.mark.parametrize("name", ["platform", "Platform", " PLATFORM "])
def test_the_platform_team_name_is_refused_by_the_page(client_for, lead, platform_identity, name):
    response = client_for(lead).post(reverse("team_create"), {"name": name})
    assert response.status_code == 200 and RESERVED in response.text
    assert not Membership.objects.filter(user=lead).exists()


@pytest.mark.parametrize("name", ["platform", "Platform"])
def test_the_platform_team_name_is_refused_by_the_api(api, lead, name):
    # Refused whether the reserved team exists or not (here it does not).
    response = api.post("/api/teams/", {"name": name}, format="json")
    assert response.status_code == 400 and RESERVED in response.json()["name"][0]
    assert not Team.objects.filter(slug="platform").exists()


def test_the_platform_project_is_refused_by_the_wizard(client_for, lead, team, platform_identity):
    form = {"service_control_id": "SC-1", "name": "msc", "team": team.slug}
    response = client_for(lead).post(reverse("register_details"), form)
    assert response.status_code == 200 and "sc-1-msc is reserved for the shared Airflow platform" in response.text
    assert "register_wizard" not in client_for(lead).session
    assert not team.projects.exists()


def test_the_platform_project_is_refused_by_the_api_even_before_it_exists(api, team):
    response = api.post("/api/projects/", {"service_control_id": "1", "name": "msc", "team": team.slug}, format="json")
    assert response.status_code == 400 and RESERVED in response.json()["name"][0]
    assert not Project.objects.filter(slug="sc-1-msc").exists()


def test_the_platform_project_is_refused_by_the_service_for_an_admin_too(team, admin_user):
    with pytest.raises(Exception, match=RESERVED):
        services.project_register(service_control_id=1, name="msc", team=team, user=admin_user)


# Platform leads ---------------------------------------------------------------------


def test_a_platform_member_cannot_make_themselves_lead(client_for, make_user, platform_identity):
    team = platform_identity.team
    carol = make_user("carol")
    Membership.objects.create(team=team, user=carol, role=Role.MEMBER)
    response = client_for(carol).post(
        reverse("team_member_set", args=[team.slug]), {"username": "carol", "role": "lead"}, follow=True
    )
    assert "Only a lead" in response.text or "are named only by" in response.text
    assert Membership.objects.get(team=team, user=carol).role == Role.MEMBER


def test_an_admin_who_is_no_platform_lead_cannot_name_one(make_user, admin_user, platform_identity):
    carol = make_user("carol")
    with pytest.raises(PermissionDenied, match="setup_shared_composer --lead"):
        services.team_set_member(team=platform_identity.team, user=carol, role=Role.LEAD, by=admin_user)
    assert not Membership.objects.filter(user=carol).exists()


def test_a_platform_lead_names_another_through_the_team_page(client_for, make_user, platform_identity):
    team = platform_identity.team
    petra, carol = make_user("petra"), make_user("carol")
    call_command("setup_shared_composer", "--lead", "petra")
    client_for(petra).post(reverse("team_member_set", args=[team.slug]), {"username": "carol", "role": "lead"})
    assert Membership.objects.get(team=team, user=carol).role == Role.LEAD
    assert AuditEvent.objects.filter(action="team.member_add", actor=petra, details__user="carol").exists()


def test_setup_shared_composer_lead_names_a_lead_and_is_audited(platform_identity, make_user, capsys):
    make_user("petra")
    call_command("setup_shared_composer", "--lead", "petra")
    assert "petra is a lead of the platform team platform" in capsys.readouterr().out
    assert Membership.objects.get(team=platform_identity.team, user__username="petra").role == Role.LEAD
    event = AuditEvent.objects.get(action="team.member_add", details__user="petra")
    assert event.details["role"] == Role.LEAD and event.details["via"] == "manage.py setup_shared_composer --lead"
    assert event.object_repr == "platform"
