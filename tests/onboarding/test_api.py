import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from onboarding.models import Membership, Project, Role
from tokens.services import create_personal_token


@pytest.fixture
def api(lead):
    client = APIClient()
    _, key = create_personal_token(user=lead, name="tests", by=lead)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_creating_a_team_makes_the_caller_its_lead(api, lead):
    response = api.post("/api/teams/", {"name": "Data Science"}, format="json")
    assert response.status_code == 201
    assert response.json()["slug"] == "data-science"
    assert Membership.objects.get(team__slug="data-science", user=lead).role == Role.LEAD


def test_a_duplicate_team_name_is_a_400_on_the_field(api, team):
    response = api.post("/api/teams/", {"name": "Data Engine"}, format="json")
    assert response.status_code == 400
    assert "exists already" in response.json()["name"][0]


def test_registering_a_project_returns_the_contract(api, team):
    response = api.post(
        "/api/projects/", {"service_control_id": "SC-123", "name": "example", "team": team.slug}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["slug"] == "sc-123-example"
    assert body["service_control_id"] == 123
    assert body["name"] == "example"
    assert body["team"] == "data-engine"
    assert isinstance(body["id"], int)
    assert body["environments"] == [
        {"name": "dev", "gcp_project_id": "sc-123-example-dev", "auto_apply": True},
        {"name": "test", "gcp_project_id": "sc-123-example-test", "auto_apply": True},
        {"name": "prod", "gcp_project_id": "sc-123-example-prod", "auto_apply": False},
    ]
    assert api.get("/api/projects/sc-123-example/").json()["slug"] == "sc-123-example"


def test_errors_are_400_with_a_message_per_field(api, team):
    response = api.post("/api/projects/", {"service_control_id": "x", "name": "Bad", "team": team.slug}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "positive whole number" in body["service_control_id"][0]
    assert "lowercase" in body["name"][0]
    assert not Project.objects.exists()


def test_a_duplicate_project_is_a_400(api, project, team):
    response = api.post("/api/projects/", {"service_control_id": 123, "name": "example", "team": team.slug})
    assert response.status_code == 400
    assert "already registered" in str(response.json())


def test_a_team_the_caller_cannot_see_is_an_unknown_team(api, outsider):
    from onboarding import services

    services.team_create(name="Hidden", lead=outsider)
    response = api.post("/api/projects/", {"service_control_id": 1, "name": "x", "team": "hidden"})
    assert response.status_code == 400 and "team" in response.json()
    assert not Project.objects.exists()


def test_a_viewer_cannot_register_over_the_api(viewer, team):
    client = APIClient()
    client.force_authenticate(viewer)
    response = client.post("/api/projects/", {"service_control_id": 1, "name": "x", "team": team.slug})
    assert response.status_code == 403
    assert "only its leads and members" in response.json()["detail"]


def test_create_token_gives_a_working_key(lead, capsys):
    call_command("create_token", lead.username, "--name", "ci", "--days", "30")
    key = capsys.readouterr().out.strip()
    assert key.startswith("hangar_")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/projects/").status_code == 200


def test_the_openapi_schema_describes_the_endpoints(api):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/projects/" in response.content and b"/api/teams/" in response.content


def test_the_list_costs_a_constant_number_of_queries(api, lead, team, django_assert_max_num_queries):
    from onboarding import services

    for i in range(10):
        services.project_register(service_control_id=i + 1, name="p", team=team, user=lead)
    with django_assert_max_num_queries(6):
        assert api.get("/api/projects/").status_code == 200


def test_an_oversized_service_control_id_is_a_400_naming_the_range(api, team):
    response = api.post(
        "/api/projects/", {"service_control_id": "99999999999999999999", "name": "a", "team": team.slug}, format="json"
    )
    assert response.status_code == 400
    assert "1 to 2147483647" in response.json()["service_control_id"][0]
    assert not Project.objects.exists()
