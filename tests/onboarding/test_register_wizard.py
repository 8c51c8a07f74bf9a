from django.urls import reverse

from onboarding.models import Environment, Project
from portal.models import AuditEvent


def details(client, **data):
    form = {"service_control_id": "SC-123", "name": "example", "team": "data-engine", **data}
    return client.post(reverse("register_details"), form)


def test_it_shows_the_hint_on_step_one(client_for, lead, team):
    response = client_for(lead).get(reverse("register_details"))
    assert "If your GCP project name is sc-123-example-dev, then you should provide 123" in response.text


def test_step_two_shows_exactly_what_will_be_created_and_saves_nothing(client_for, lead, team):
    client = client_for(lead)
    response = details(client)
    assert response.status_code == 302 and response.url == reverse("register_confirm")
    page = client.get(response.url).text
    for env in ("dev", "test", "prod"):
        assert f"sc-123-example-{env}" in page
    assert not Project.objects.exists()


def test_confirming_creates_the_project_its_environments_and_an_audit_record(client_for, lead, team):
    client = client_for(lead)
    details(client)
    token = client.session["register_wizard"]["token"]
    response = client.post(reverse("register_confirm"), {"token": token})
    assert response.status_code == 302
    assert response.url == reverse("register_summary", args=["sc-123-example"])
    project = Project.objects.get()
    assert (project.slug, project.service_control_id, project.name, project.team) == (
        "sc-123-example",
        123,
        "example",
        team,
    )
    assert list(project.environments.values_list("name", "gcp_project_id")) == [
        ("dev", "sc-123-example-dev"),
        ("test", "sc-123-example-test"),
        ("prod", "sc-123-example-prod"),
    ]
    assert AuditEvent.objects.filter(action="project.register", object_repr="sc-123-example", actor=lead).exists()
    summary = client.get(response.url).text
    assert "sc-123-example-prod" in summary and "is registered" in summary


def test_resubmitting_the_confirmation_creates_nothing_twice(client_for, lead, team):
    client = client_for(lead)
    details(client)
    token = client.session["register_wizard"]["token"]
    first = client.post(reverse("register_confirm"), {"token": token})
    second = client.post(reverse("register_confirm"), {"token": token})
    assert first.url == second.url == reverse("register_summary", args=["sc-123-example"])
    assert Project.objects.count() == 1 and Environment.objects.count() == 3


def test_going_back_keeps_what_was_typed(client_for, lead, team):
    client = client_for(lead)
    details(client, name="data-engine")
    page = client.get(reverse("register_details")).text
    assert 'value="data-engine"' in page


def test_invalid_details_show_messages_and_save_nothing(client_for, lead, team):
    client = client_for(lead)
    response = details(client, service_control_id="abc", name="Bad_Name")
    assert response.status_code == 200
    assert "positive whole number" in response.text
    assert "lowercase letters, digits and hyphens" in response.text
    assert "register_wizard" not in client.session
    assert not Project.objects.exists()


def test_a_name_that_is_too_long_is_refused_on_step_one(client_for, lead, team):
    response = details(client_for(lead), name="a" * 19)
    assert "at most 18 characters" in response.text


def test_a_project_registered_between_the_steps_is_refused_at_confirmation(client_for, lead, team):
    from onboarding import services

    client = client_for(lead)
    details(client)
    services.project_register(service_control_id=123, name="example", team=team, user=lead)
    token = client.session["register_wizard"]["token"]
    response = client.post(reverse("register_confirm"), {"token": token}, follow=True)
    assert "sc-123-example is already registered" in response.text
    assert Project.objects.count() == 1


def test_a_viewer_cannot_register_for_the_team(client_for, viewer, team):
    client = client_for(viewer)
    response = details(client)
    assert response.status_code == 200
    assert not Project.objects.exists()


def test_a_user_with_no_team_is_told_what_to_do(client_for, outsider):
    page = client_for(outsider).get(reverse("register_details")).text
    assert "Create a team" in page


def test_an_oversized_service_control_id_is_refused_on_step_one(client_for, lead, team):
    response = details(client_for(lead), service_control_id="99999999999999999999", name="a")
    assert response.status_code == 200
    assert "1 to 2147483647" in response.text
    assert "register_wizard" not in response.wsgi_request.session


def test_a_duplicate_is_refused_on_step_one_with_a_link_to_the_project(client_for, lead, team, project):
    client = client_for(lead)
    response = details(client)
    assert response.status_code == 200
    assert "sc-123-example is already registered" in response.text
    assert f'href="{project.get_absolute_url()}"' in response.text
    assert "register_wizard" not in client.session


def test_a_duplicate_the_user_cannot_see_is_refused_without_a_link(client_for, make_user, project):
    from onboarding import services

    other = make_user("olga")
    services.team_create(name="Other", lead=other)
    response = details(client_for(other), team="other")
    assert response.status_code == 200
    assert "sc-123-example is already registered" in response.text
    assert project.get_absolute_url() not in response.text
