"""The REST API fuzzed from its own OpenAPI schema (schemathesis, in-process over WSGI).

Authenticated as an ordinary team member with a project and an artifact, every operation gets a
bounded number of generated requests; none may fail with a 5xx or answer outside its schema."""

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from portal.wsgi import application
from tokens.services import create_personal_token

pytestmark = pytest.mark.django_db

EXAMPLES = 12  # per operation: the whole module stays well under a minute on two cores


@pytest.fixture
def token(member, project, upload):
    upload(project, member, "0.1.0")
    return create_personal_token(user=member, name="fuzz", by=member)[1]


@pytest.fixture
def in_test_transaction():
    """The WSGI app must not close the test's connection after each request (as Django's test client)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _generated_schema() -> dict:
    """The schema /api/schema/ serves, generated in-process (schemathesis' lazy fixture loader does
    not work with this pytest, so the schema is loaded when the module is)."""
    import django

    django.setup()
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


schema = schemathesis.openapi.from_dict(json.loads(json.dumps(_generated_schema(), default=str)))
schema.app = application  # requests go to the Django app in-process, over WSGI


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
)
def test_the_api_answers_every_generated_request_within_its_schema(case, token, project, in_test_transaction):
    # Generated slugs find nothing: aim at the member's own project and team, so bodies and
    # queries reach the views behind the lookups.
    if case.path_parameters and "slug" in case.path_parameters:
        case.path_parameters["slug"] = project.team.slug if case.path.startswith("/api/teams/") else project.slug
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
