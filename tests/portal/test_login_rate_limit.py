"""Login is rate-limited per username and address (django-axes); API tokens keep working."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client

from tests.conftest import PASSWORD
from tokens.services import create_personal_token

pytestmark = pytest.mark.django_db


def _login(client, username, password, ip="10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_repeated_failures_lock_the_username_from_that_address(member, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _login(client, member.username, "wrong")
        assert response.status_code == 200 and "match. Please try again" in response.text
    locked = _login(client, member.username, "wrong")
    assert locked.status_code == 429
    assert "Too many failed login attempts" in locked.text and 'name="password"' in locked.text
    # Even the right password is refused while locked.
    assert _login(client, member.username, PASSWORD).status_code == 429
    # Another account from that address, and this account from another address, are not locked.
    assert _login(Client(), member.username, PASSWORD, ip="10.0.0.2").status_code == 302

    # After the cool-off the account logs in again.
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(hours=2))
    assert _login(Client(), member.username, PASSWORD).status_code == 302


def test_api_tokens_work_while_the_login_is_locked(member, project, settings):
    _, key = create_personal_token(user=member, name="tests", by=member)
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        _login(Client(), member.username, "wrong")
    assert _login(Client(), member.username, PASSWORD).status_code == 429
    response = Client().get("/api/projects/", HTTP_AUTHORIZATION=f"Token {key}", REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 200 and project.slug in response.text
