"""The live log stream: resume exactly after Last-Event-ID, end with the run."""

import http.client
import socket
from urllib.parse import urlsplit

import pytest
from django.test import Client

from deployments.runs import services as runs
from deployments.runs.choices import RunStatus
from deployments.runs.logs import RunLog
from deployments.runs.terraform_json import parse_line
from tests.deployments.conftest import session_cookie

pytestmark = [pytest.mark.django_db(transaction=True)]


class Stream:
    """A minimal SSE client reading events as they come."""

    def __init__(self, base_url: str, path: str, cookie: str, last_event_id: str | None = None):
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
        headers = {"Cookie": f"sessionid={cookie}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.connection.request("GET", path, headers=headers)
        self.response = self.connection.getresponse()

    def events(self):
        event: dict = {}
        while True:
            raw = self.response.readline()  # de-chunked
            if not raw:
                return
            line = raw.decode().rstrip("\n")
            if not line:
                if "event" in event:
                    yield event
                event = {}
            elif line.startswith(":"):
                continue
            else:
                name, _, value = line.partition(": ")
                event[name] = event[name] + "\n" + value if name == "data" and name in event else value

    def close(self):
        self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()


def line_seqs(event: dict) -> list[int]:
    import re

    return [int(seq) for seq in re.findall(r'data-seq="(\d+)"', event.get("data", ""))]


@pytest.fixture
def running(upload, project, lead):
    upload(project, lead, "0.1.0")
    run = runs.run_start(
        project=project, environment="dev", target="local", version="0.1.0", operation="apply", user=lead
    )
    runs.run_dispatch(deployment_id=run.deployment_id)
    return runs.run_claim(run_id=run.pk, worker="test")


def write_lines(run, count: int, log=None) -> RunLog:
    log = log or RunLog(run)
    for _ in range(count):
        log.store(parse_line(f"line {log.next_seq}"))
    return log


def test_a_reconnect_with_last_event_id_gets_every_line_exactly_once(web, running, lead):
    cookie = session_cookie(Client(), lead)
    log = write_lines(running, 10)
    first = Stream(web.url, f"/runs/{running.pk}/events/", cookie)
    assert first.response.status == 200
    assert first.response.getheader("X-Accel-Buffering") == "no"
    assert first.response.getheader("Content-Type").startswith("text/event-stream")
    received: list[int] = []
    for event in first.events():
        if event["event"] == "line":
            received += line_seqs(event)
            assert int(event["id"]) == received[-1]
        if received and received[-1] == 10:
            break
    first.close()

    write_lines(running, 10, log)  # written while nobody listens
    second = Stream(web.url, f"/runs/{running.pk}/events/?after=0", cookie, last_event_id="10")
    for event in second.events():
        if event["event"] == "line":
            received += line_seqs(event)
            if received[-1] == 20:
                write_lines(running, 5, log)  # and while the stream is open
        if received and received[-1] == 25:
            runs.run_finish(run=running, status=RunStatus.SUCCEEDED)
        if event["event"] == "end":
            assert event["data"] == "succeeded"
            break
    second.close()
    assert received == list(range(1, 26))


def test_the_stream_sends_the_final_parts_then_ends(web, running, lead):
    cookie = session_cookie(Client(), lead)
    write_lines(running, 3)
    runs.run_finish(run=running, status=RunStatus.FAILED, error="terraform apply failed: boom")
    events = list(Stream(web.url, f"/runs/{running.pk}/events/", cookie).events())
    kinds = [event["event"] for event in events]
    assert kinds == ["line", "parts", "end"]
    assert "boom" in events[1]["data"] and 'hx-swap-oob="true"' in events[1]["data"]


def test_outsiders_get_404_for_the_stream(web, running, outsider, client):
    cookie = session_cookie(Client(), outsider)
    stream = Stream(web.url, f"/runs/{running.pk}/events/", cookie)
    assert stream.response.status == 404
    anonymous = Stream(web.url, f"/runs/{running.pk}/events/", "nothing")
    assert anonymous.response.status in (302, 404)
