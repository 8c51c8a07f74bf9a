"""404, 403 and 500 pages keep the site's layout and say what to do."""

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


def test_404_has_the_layout_navigation_and_a_hint(client_for, outsider, project):
    response = client_for(outsider).get(project.get_absolute_url())
    assert response.status_code == 404
    page = response.text
    assert 'class="topbar"' in page and reverse("project_list") in page and "mallory" in page
    assert "ask the project's team lead for access" in page


def test_403_has_the_layout_the_reason_and_a_hint(client_for, lead):
    response = client_for(lead).get(reverse("operations"))
    assert response.status_code == 403
    page = response.text
    assert 'class="topbar"' in page and reverse("team_list") in page
    assert "The operations page is for Hangar&#x27;s admins." in page
    assert "ask the project's team lead for access" in page


def test_500_renders_without_a_request_context():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert 'class="topbar"' in page and "Something went wrong" in page and "tell an admin" in page
