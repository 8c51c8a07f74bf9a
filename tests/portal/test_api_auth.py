"""The API answers a request without credentials with 401 and a challenge, not 403."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/projects/", "/api/teams/", "/api/schema/"])
def test_no_credentials_is_401_with_www_authenticate(url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-key")
    assert client.get("/api/projects/").status_code == 401


def test_a_signed_in_browser_still_uses_its_session(client_for, lead):
    assert client_for(lead).get("/api/projects/").status_code == 200
