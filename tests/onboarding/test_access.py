import pytest
from django.urls import reverse

from onboarding.access import visible_projects

PAGES = ["project_detail", "project_deploy", "project_deployments", "project_configuration", "project_details"]


@pytest.mark.parametrize("page", PAGES)
def test_a_non_member_gets_404_for_every_project_page(client_for, outsider, project, page):
    response = client_for(outsider).get(reverse(page, args=[project.slug]))
    assert response.status_code == 404


@pytest.mark.parametrize("page", PAGES)
def test_a_member_sees_every_project_page(client_for, member, project, page):
    assert client_for(member).get(reverse(page, args=[project.slug])).status_code == 200


def test_a_non_member_gets_404_in_the_api(client_for, outsider, project):
    response = client_for(outsider).get(f"/api/projects/{project.slug}/")
    assert response.status_code == 404


def test_the_project_list_shows_only_the_users_teams(client_for, outsider, project, make_user):
    from onboarding import services

    other_team = services.team_create(name="Other", lead=outsider)
    services.project_register(service_control_id=7, name="secret", team=other_team, user=outsider)
    page = client_for(outsider).get(reverse("project_list")).text
    assert "sc-7-secret" in page and "sc-123-example" not in page


def test_admins_see_everything(admin_user, project):
    assert list(visible_projects(admin_user)) == [project]


def test_viewers_see_but_members_only_appear_once(viewer, member, project):
    assert list(visible_projects(viewer)) == [project]
    assert list(visible_projects(member)) == [project]


def test_pages_require_a_signed_in_user(client, project):
    for url in ["/", reverse("project_list"), reverse("project_detail", args=[project.slug]), reverse("team_list")]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


def test_the_api_answers_401_or_403_instead_of_redirecting(client, project):
    assert client.get("/api/projects/").status_code in (401, 403)


def test_the_project_list_searches_and_paginates(client_for, lead, team):
    from onboarding import services

    for i in range(30):
        services.project_register(service_control_id=100 + i, name="proj", team=team, user=lead)
    client = client_for(lead)
    first = client.get(reverse("project_list")).text
    assert "1–25 of 30" in first
    found = client.get(reverse("project_list"), {"q": "sc-105"}).text
    assert "sc-105-proj" in found and "sc-106-proj" not in found


def test_the_search_returns_just_the_table_for_htmx(client_for, lead, project):
    response = client_for(lead).get(reverse("project_list"), {"q": "example"}, headers={"HX-Request": "true"})
    assert "<table" in response.text and "<html" not in response.text
