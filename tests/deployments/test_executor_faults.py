"""Faults inside the executor: Terraform never outlives its run, and the watchdog keeps watching."""

import pytest
from django.db import OperationalError

from deployments.runs import executor
from deployments.runs.choices import RunStatus
from deployments.runs.logs import RunLog
from tests.deployments.helpers import process_group_alive

pytestmark = [pytest.mark.terraform, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def spawned(monkeypatch):
    """Every process group a step starts, in order."""
    groups: list[int] = []
    real = executor._spawn

    def spawn(*args, **kwargs):
        process = real(*args, **kwargs)
        groups.append(process.pid)
        return process

    monkeypatch.setattr(executor, "_spawn", spawn)
    return groups


def test_a_failure_storing_a_line_stops_terraform_before_the_run_ends(
    run_here, upload, project, lead, settings, monkeypatch, spawned
):
    settings.LOCALCLOUD_LATENCY_MS = 2000
    settings.RUN_CANCEL_GRACE = 5
    upload(project, lead, "0.1.0", tables=["a", "b", "c"])
    real = RunLog.store_many

    def store_many(self, lines):
        if any(line.type == "apply_start" for line in lines):
            raise OperationalError("the database went away")
        return real(self, lines)

    monkeypatch.setattr(RunLog, "store_many", store_many)
    run = run_here(project, lead, "0.1.0")
    assert run.status == RunStatus.FAILED
    assert len(spawned) == 2  # init, apply
    assert process_group_alive(spawned[-1]) == [], "terraform apply is still running after its run ended"
