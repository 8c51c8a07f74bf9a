"""Hangar's own tracebacks in a run's log are for admins; everyone else reads a short reason in their
place, with the same sequence number, on the run page, the poll, the API and the download."""

import pytest

from deployments.runs import executor
from deployments.runs import services as runs
from deployments.runs.logs import HIDDEN_TRACEBACK, TRACEBACK, RunLog
from deployments.runs.terraform_json import parse_line

pytestmark = pytest.mark.django_db(transaction=True)  # the executor closes its connection

SECRET = 'Traceback (most recent call last):\n  File "/srv/hangar/deployments/runs/executor.py"'


@pytest.fixture
def failed(upload, project, lead, monkeypatch, tmp_path, settings):
    """A run that failed inside Hangar: the executor logged the traceback."""
    settings.RUN_WORKSPACE_DIR = str(tmp_path / "runs")
    upload(project, lead, "0.1.0")
    run = runs.run_start(
        project=project, environment="dev", target="local", version="0.1.0", operation="apply", user=lead
    )
    runs.run_dispatch(deployment_id=run.deployment_id)
    log = RunLog(run)
    log.store(parse_line("before the failure"))

    def explode(state, workspace):
        raise RuntimeError("internal detail: /srv/hangar/var/secret-path")

    monkeypatch.setattr(executor, "_execute", explode)
    executor.run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.status == "failed"
    return run


def test_the_executor_marks_its_traceback(failed):
    line = failed.log_lines.get(type=TRACEBACK)
    assert "Traceback (most recent call last)" in line.message and "secret-path" in line.message


def test_members_read_a_short_reason_and_admins_the_traceback(client_for, member, admin_user, failed):
    hidden_seq = failed.log_lines.get(type=TRACEBACK).seq
    last_seq = failed.log_lines.order_by("-seq").first().seq
    member_client = client_for(member)
    pages = {
        "page": f"/runs/{failed.pk}/",
        "poll": f"/runs/{failed.pk}/poll/?after=0",
        "api": f"/api/runs/{failed.pk}/logs/?after=0",
        "download": f"/runs/{failed.pk}/log/",
    }
    for name, page in pages.items():
        response = member_client.get(page)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode()
        assert response.status_code == 200, name
        assert "Traceback" not in text and "secret-path" not in text, name
        assert HIDDEN_TRACEBACK in text, name
    api = member_client.get(pages["api"]).json()
    assert hidden_seq in [line["seq"] for line in api["lines"]] and api["next"] == last_seq
    # A cursor past the hidden line still works.
    after = member_client.get(f"/api/runs/{failed.pk}/logs/?after={hidden_seq}").json()
    assert all(line["seq"] > hidden_seq for line in after["lines"])

    admin = client_for(admin_user)
    for name, page in pages.items():
        response = admin.get(page)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert "secret-path" in body.decode(), name
