"""Expected refusals (403) are not warnings or errors in the log; real failures still are."""

import logging

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _loud(caplog):
    return [
        (record.name, record.levelname, record.getMessage())
        for record in caplog.records
        if record.levelno >= logging.WARNING and record.name.startswith("django")
    ]


def test_a_refused_page_is_not_logged_as_a_problem(client_for, lead, caplog):
    caplog.set_level(logging.INFO)
    assert client_for(lead).get(reverse("operations")).status_code == 403
    assert _loud(caplog) == []
    assert any("Forbidden" in record.getMessage() and record.levelno == logging.INFO for record in caplog.records)


def test_a_refused_api_call_is_not_logged_as_a_problem(viewer, team, caplog):
    from tokens.services import create_personal_token

    caplog.set_level(logging.INFO)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {create_personal_token(user=viewer, name='t', by=viewer)[1]}")
    response = client.post("/api/projects/", {"service_control_id": 5, "name": "x", "team": team.slug})
    assert response.status_code == 403
    assert _loud(caplog) == []


def test_the_logging_configuration_quiets_403_only():
    from django.conf import settings

    from portal.log_filters import ExpectedRefusalsFilter

    assert "expected_refusals" in settings.LOGGING["filters"]
    quiet = ExpectedRefusalsFilter()

    def record(name, status, level=logging.WARNING):
        item = logging.LogRecord(name, level, __file__, 1, "Forbidden: /x", None, None)
        item.status_code = status
        return item

    forbidden = record("django.request", 403)
    assert quiet.filter(forbidden) and forbidden.levelno == logging.INFO
    failure = record("django.request", 500, logging.ERROR)
    assert quiet.filter(failure) and failure.levelno == logging.ERROR
    denied = record("django.security.PermissionDenied", None)
    assert quiet.filter(denied) and denied.levelno == logging.INFO
    suspicious = record("django.security.SuspiciousOperation", None)
    assert quiet.filter(suspicious) and suspicious.levelno == logging.WARNING
