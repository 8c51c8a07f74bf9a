"""The deployments pages cost the same number of SQL queries however long the history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deployments.runs import services as runs
from deployments.runs.choices import RunStatus


def finished_runs(project, user, count: int):
    run = None
    for _ in range(count):
        run = runs.run_start(
            project=project, environment="dev", target="local", version="0.1.0", operation="apply", user=user
        )
        runs.run_dispatch(deployment_id=run.deployment_id)
        runs.run_finish(run=runs.run_claim(run_id=run.pk, worker="w"), status=RunStatus.SUCCEEDED)
    return run


def queries(client, url: str) -> int:
    client.get(url)  # warm: the session, caches
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


# Session, user, project and access checks included; a change here should be a deliberate one.
EXPECTED = {
    "project_deploy": 9,  # + the newest upload's speculative plans
    "project_deployments": 5,
    "deployment_history": 9,
    "deployment_history_deep": 9,
    "api_deployments": 5,
    "run_detail": 9,  # + whether the viewer may approve a production run, + its saved plan
}


@pytest.mark.parametrize("page", EXPECTED)
def test_a_page_costs_the_same_queries_however_long_the_history(client_for, lead, project, upload, page):
    upload(project, lead, "0.1.0")
    client = client_for(lead)

    def url(run) -> str:
        if page == "run_detail":
            return reverse("run_detail", args=[run.pk])
        if page.startswith("deployment_history"):
            base = reverse("deployment_history", args=[project.slug, "dev", "local"])
            return f"{base}?page=2" if page.endswith("deep") else base
        return reverse(page, args=[project.slug])

    few = finished_runs(project, lead, 21)  # the deep page (2) exists from 21 runs on
    before = queries(client, url(few))
    many = finished_runs(project, lead, 25)
    assert queries(client, url(many)) == before == EXPECTED[page]
