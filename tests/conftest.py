"""Shared fixtures: users with roles in teams, a registered project, and the local cloud server."""

import pytest
from django.contrib.auth import get_user_model

from onboarding import reserved, services
from onboarding.models import Project, Role, Team
from tests.browser_fixtures import browser, login, page  # noqa: F401  (Playwright fixtures)
from tests.localcloud_fixtures import localcloud, localcloud_server  # noqa: F401  (the session's local cloud)

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _without_platform_identity(request):
    """Most tests start from an empty database, as they did before migration onboarding 0004 created the
    shared Airflow's platform team and project; shared composer code recreates them when it needs them
    (shared_platform_project). Tests that want the migrated ones ask for `platform_identity`."""
    if "platform_identity" in request.fixturenames:
        return
    if request.node.get_closest_marker("django_db") is None and not {"db", "transactional_db"} & set(
        request.fixturenames
    ):
        return
    request.getfixturevalue("db")
    remove_platform_identity()


def remove_platform_identity() -> None:
    from portal.models import AuditEvent

    Project.objects.filter(slug=reserved.platform_project_slug()).delete()
    Team.objects.filter(slug=reserved.platform_team_slug(), projects__isnull=True).delete()
    get_user_model().objects.filter(username="hangar-shared-composer").delete()
    AuditEvent.objects.filter(details__reason__startswith="reserved for the shared Airflow platform").delete()


@pytest.fixture
def platform_identity(db):
    """The platform project as migration onboarding 0004 created it."""
    return Project.objects.select_related("team").get(slug=reserved.platform_project_slug())


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
