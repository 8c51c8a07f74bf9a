"""Shared fixtures: users with roles in teams, a registered project, and the local cloud server."""

import pytest
from django.contrib.auth import get_user_model

from onboarding import services
from onboarding.models import Role
from tests.browser_fixtures import browser, login, page  # noqa: F401  (Playwright fixtures)
from tests.localcloud_fixtures import localcloud, localcloud_server  # noqa: F401  (the session's local cloud)

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def make_user(db):
    def make(username: str, **extra):
        return get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)

    return make


@pytest.fixture
def lead(make_user):
    return make_user("alice")


@pytest.fixture
def team(lead):
    return services.team_create(name="Data Engine", lead=lead)


@pytest.fixture
def member(make_user, team, lead):
    user = make_user("bob")
    services.team_set_member(team=team, user=user, role=Role.MEMBER, by=lead)
    return user


@pytest.fixture
def viewer(make_user, team, lead):
    user = make_user("victor")
    services.team_set_member(team=team, user=user, role=Role.VIEWER, by=lead)
    return user


@pytest.fixture
def outsider(make_user):
    return make_user("mallory")


@pytest.fixture
def admin_user(make_user):
    return get_user_model().objects.create_superuser(username="root", password=PASSWORD)


@pytest.fixture
def project(team, lead):
    return services.project_register(service_control_id=123, name="example", team=team, user=lead)


@pytest.fixture
def client_for(client):
    """Log a Django test client in as the given user."""

    def signed_in(user):
        client.force_login(user)
        return client

    return signed_in
