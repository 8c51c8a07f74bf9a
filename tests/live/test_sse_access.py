"""The live stream shows tracebacks to admins only, and ends when the user loses access."""

import time

import pytest
from django.test import Client

from deployments.runs import services as runs
from deployments.runs.logs import HIDDEN_TRACEBACK, RunLog
from onboarding import services as onboarding
from tests.deployments.conftest import WebProcess, session_cookie
from tests.live.test_sse import Stream

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def running(upload, project, lead):
    upload(project, lead, "0.1.0")
    run = runs.run_start(
        project=project, environment="dev", target="local", version="0.1.0", operation="apply", user=lead
    )
    runs.run_dispatch(deployment_id=run.deployment_id)
    return runs.run_claim(run_id=run.pk, worker="test")


@pytest.fixture
def quick_web(worker_env, tmp_path):
    server = WebProcess(dict(worker_env, LIVE_KEEPALIVE="1"), tmp_path / "web.log")
    yield server
    server.stop()


def _lines_until(stream, text: str, deadline: float = 15) -> str:
    seen, stop = "", time.monotonic() + deadline
    for event in stream.events():
        if event["event"] == "line":
            seen += event["data"]
            if text in seen:
                return seen
        assert time.monotonic() < stop, seen
    return seen


def test_the_stream_hides_tracebacks_from_non_admins(web, running, member, admin_user):
    RunLog(running).append("Hangar failed while running this run:\nTraceback ... secret-path", level="error",
                           type="traceback")  # fmt: skip
    RunLog(running).append("after the failure")
    member_stream = Stream(web.url, f"/runs/{running.pk}/events/", session_cookie(Client(), member))
    seen = _lines_until(member_stream, "after the failure")
    member_stream.close()
    assert HIDDEN_TRACEBACK in seen and "secret-path" not in seen
    admin_stream = Stream(web.url, f"/runs/{running.pk}/events/", session_cookie(Client(), admin_user))
    seen = _lines_until(admin_stream, "after the failure")
    admin_stream.close()
    assert "secret-path" in seen and HIDDEN_TRACEBACK not in seen


def test_the_stream_ends_when_the_user_leaves_the_team(quick_web, running, member, lead, team):
    stream = Stream(quick_web.url, f"/runs/{running.pk}/events/", session_cookie(Client(), member))
    assert next(stream.events())["event"] == "parts"
    onboarding.team_remove_member(team=team, user=member, by=lead)
    removed_at = time.monotonic()
    raw = []
    while time.monotonic() - removed_at < 10:  # keep-alives arrive every second meanwhile
        line = stream.response.readline().decode()
        if not line:
            break  # the server closed the stream
        raw.append(line)
    stream.close()
    assert "event: end\n" in raw and "data: access-revoked\n" in raw, raw
    assert time.monotonic() - removed_at < 10
