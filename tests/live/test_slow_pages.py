"""A slow page cannot stall Terraform's state backend, the health check or a live log stream.

Django's ASGI handler runs each request's synchronous code in a thread of its own (asgiref's
ThreadSensitiveContext per request), so pages that block do not hold up other requests; this
test keeps it so, against the real uvicorn server."""

import base64
import threading
import time
import urllib.request

import pytest
from django.test import Client

from deployments.runs import services as runs
from deployments.state import services as state_backend
from tests.deployments.conftest import WebProcess, session_cookie
from tests.live.test_sse import Stream

pytestmark = [pytest.mark.django_db(transaction=True)]

SLOW_PAGES = 8
DEADLINE = 5.0


def _wait(condition, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {message}")


@pytest.fixture
def slow_web(worker_env, tmp_path):
    slow_dir = tmp_path / "slow"
    slow_dir.mkdir()
    env = dict(worker_env, DJANGO_SETTINGS_MODULE="tests.portal.slow_settings", HANGAR_TEST_SLOW_DIR=str(slow_dir))
    server = WebProcess(env, tmp_path / "web.log")
    server.slow_dir = slow_dir
    yield server
    (slow_dir / "release").touch()
    server.stop()


def _timed(request) -> tuple[int, float]:
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=DEADLINE) as response:
        response.read()
        return response.status, time.monotonic() - started


def test_slow_pages_do_not_stall_the_state_backend_health_or_live_streams(slow_web, upload, project, lead):
    upload(project, lead, "0.1.0")
    run = runs.run_start(
        project=project, environment="dev", target="local", version="0.1.0", operation="apply", user=lead
    )
    runs.run_dispatch(deployment_id=run.deployment_id)
    run = runs.run_claim(run_id=run.pk, worker="test")
    credential = state_backend.credential_mint(run=run)
    cookie = session_cookie(Client(), lead)

    answers = []
    slow = [
        threading.Thread(target=lambda: answers.append(_timed(urllib.request.Request(f"{slow_web.url}/test-slow/"))))
        for _ in range(SLOW_PAGES)
    ]
    for thread in slow:
        thread.start()
    _wait(lambda: len(list(slow_web.slow_dir.glob("in-*"))) == SLOW_PAGES, 30, "every slow page to be in its view")

    assert _timed(f"{slow_web.url}/healthz")[0] == 200
    token = base64.b64encode(f"{credential.username}:{credential.password}".encode()).decode()
    state = urllib.request.Request(
        f"{slow_web.url}/state/{run.deployment_id}/", headers={"Authorization": f"Basic {token}"}
    )
    assert _timed(state)[0] == 204  # the state backend read the database: no state yet
    stream = Stream(slow_web.url, f"/runs/{run.pk}/events/", cookie)
    started = time.monotonic()
    assert stream.response.status == 200
    assert next(stream.events())["event"] == "parts" and time.monotonic() - started < DEADLINE
    stream.close()

    assert answers == []  # the slow pages were still running all along
    (slow_web.slow_dir / "release").touch()
    for thread in slow:
        thread.join(timeout=30)
    assert [status for status, _ in answers] == [200] * SLOW_PAGES
