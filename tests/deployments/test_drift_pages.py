"""Where drift shows: the drift page, the Health column, the Overview and the Operations page, from
recorded checks (the checks themselves are in test_drift_checks.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deployments.drift.models import DriftCheck
from deployments.runs import dispatch
from deployments.runs.models import Deployment, Run

pytestmark = pytest.mark.django_db

LABEL = {
    "address": "module.dataset_example_reports.localcloud_dataset.this",
    "action": "update",
    "title": "dataset `example_reports`",
    "dsl": {"kind": "dataset", "name": "example_reports"},
    "changes": [
        {
            "path": "labels.cost_center",
            "before": None,
            "after": "<b>finance</b>",
            "sentence": "label `cost_center` added (<b>finance</b>)",
        }
    ],
    "omitted_changes": 0,
}
DELETED = {
    "address": "module.table_example_reports--details.localcloud_table.this",
    "action": "delete",
    "title": "table `example_reports.details`",
    "dsl": {"kind": "table", "name": "example_reports.details"},
    "changes": [],
    "omitted_changes": 0,
}


@pytest.fixture(autouse=True)
def no_tasks(monkeypatch):
    monkeypatch.setattr(dispatch, "send_task", lambda name, *args, countdown=0: "")


@pytest.fixture
def dev(upload, project, lead) -> Deployment:
    artifact = upload(project, lead, "0.1.0")
    return Deployment.objects.create(
        environment=project.environments.get(name="dev"), target="local", deployed_artifact=artifact
    )


def record(deployment, outcome, resources=(), **fields) -> DriftCheck:
    check = DriftCheck.objects.create(
        deployment=deployment,
        artifact=deployment.deployed_artifact,
        status="finished",
        outcome=outcome,
        finished_at=fields.pop("finished_at", timezone.now()),
        resources=list(resources),
        drifted_count=len(resources),
        **fields,
    )
    Deployment.objects.filter(pk=deployment.pk).update(last_drift_check=check)
    return check


def drift_url(project, env="dev") -> str:
    return f"/projects/{project.slug}/deployments/{env}/local/drift/"


def test_the_drift_page_shows_each_change_in_the_dsls_terms(dev, project, member, viewer, client_for):
    older = record(dev, "in_sync", finished_at=timezone.now() - timedelta(hours=6))
    check = record(dev, "drifted", [LABEL, DELETED], would_change={"add": 1, "change": 1, "destroy": 0},
                   log='{"type":"resource_drift"}')  # fmt: skip
    page = client_for(member).get(drift_url(project)).text
    assert "Drifted (2)" in page
    assert "label <code>cost_center</code> added (&lt;b&gt;finance&lt;/b&gt;)" in page  # values are escaped
    assert "<b>finance</b>" not in page
    assert "dataset <code>example_reports</code>" in page and "deleted outside Hangar" in page
    assert 'class="add">+1</span>' in page and "puts back what changed outside Hangar" in page
    assert "Reconcile" in page and 'name="version" value="0.1.0"' in page
    assert f'href="?check={older.pk}"' in page and f'href="?check={check.pk}"' in page
    assert "Check now" in page and "resource_drift" in page
    assert '<button type="submit">Accept reality' not in page  # leads only

    # An older check can be opened; its ways out are not offered (they belong to the newest).
    old_page = client_for(member).get(drift_url(project), {"check": older.pk}).text
    assert "Everything is as Hangar last applied" in old_page and "an older check" in old_page
    assert "Reconcile" not in old_page

    as_viewer = client_for(viewer).get(drift_url(project)).text
    assert "Drifted (2)" in as_viewer
    assert "Check now" not in as_viewer and '<button type="submit">Reconcile' not in as_viewer


def test_a_lead_may_accept_reality_from_the_drift_page(dev, project, lead, client_for, monkeypatch):
    record(dev, "drifted", [LABEL])
    page = client_for(lead).get(drift_url(project)).text
    assert '<button type="submit">Accept reality</button>' in page
    accepted = client_for(lead).post(
        f"/projects/{project.slug}/deployments/dev/local/accept-reality/", {"version": "0.1.0"}
    )
    run = Run.objects.get(operation="refresh")
    assert accepted.status_code == 302 and accepted["Location"] == run.get_absolute_url()
    assert (run.deployment_id, run.artifact.version, run.requested_by) == (dev.pk, "0.1.0", lead)


def test_a_check_of_another_deployment_or_team_is_not_shown(dev, project, lead, member, outsider, client_for):
    test_env = Deployment.objects.create(environment=project.environments.get(name="test"), target="local",
                                         deployed_artifact=dev.deployed_artifact)  # fmt: skip
    other = record(test_env, "drifted", [LABEL])
    assert client_for(member).get(drift_url(project), {"check": other.pk}).status_code == 404
    assert client_for(outsider).get(drift_url(project, "test")).status_code == 404
    assert client_for(member).get(f"/projects/{project.slug}/deployments/staging/local/drift/").status_code == 404


def test_a_pending_check_polls_and_reloads_when_done(dev, project, member, client_for):
    client = client_for(member)
    started = client.post(drift_url(project) + "check/", follow=True)
    assert "Checking for drift now" in started.text
    check = DriftCheck.objects.get()
    assert f"Check #{check.pk} is queued" in started.text and 'hx-trigger="every 2s"' in started.text
    assert "Check now" not in started.text  # one at a time

    poll = client.get(drift_url(project), {"part": "pending"}, HTTP_HX_REQUEST="true")
    assert f"Check #{check.pk}" in poll.text and "HX-Refresh" not in poll
    DriftCheck.objects.filter(pk=check.pk).update(status="finished", outcome="in_sync", finished_at=timezone.now())
    done = client.get(drift_url(project), {"part": "pending"}, HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"


def test_nothing_deployed_has_no_drift_page_actions(project, lead, client_for):
    page = client_for(lead).get(drift_url(project))
    assert page.status_code == 200 and "nothing to check for drift" in page.text
    refused = client_for(lead).post(drift_url(project) + "check/", follow=True)
    assert "Nothing is deployed on dev / local" in refused.text


def test_the_health_column_the_overview_and_operations_list_drift(
    dev, project, member, admin_user, client_for, upload, lead
):
    table = client_for(member).get(f"/projects/{project.slug}/deployments/").text
    assert "Not checked yet" in table and "DRIFT" in table
    record(dev, "drifted", [LABEL, DELETED])
    table = client_for(member).get(f"/projects/{project.slug}/deployments/").text
    assert "Drifted (2)" in table
    sorted_table = client_for(member).get(f"/projects/{project.slug}/deployments/", {"sort": "health"}).text
    assert sorted_table.index("Drifted (2)") < sorted_table.index('—</td>\n      <td class="actions-cell">')
    overview = client_for(member).get(f"/projects/{project.slug}/").text
    assert "Changed outside Hangar" in overview and "Drifted (2)" in overview
    operations = client_for(admin_user).get("/operations/").text
    assert "Drifted deployments" in operations and str(dev) in operations

    # A run after the check: the check no longer says anything about now.
    run = Run.objects.create(deployment=dev, artifact=dev.deployed_artifact, status="succeeded",
                             finished_at=timezone.now() + timedelta(seconds=1))  # fmt: skip
    Deployment.objects.filter(pk=dev.pk).update(last_run=run)
    table = client_for(member).get(f"/projects/{project.slug}/deployments/").text
    assert "Not checked since the last run" in table
    assert "Changed outside Hangar" not in client_for(member).get(f"/projects/{project.slug}/").text

    record(dev, "check_failed", error="terraform plan failed: boom", finished_at=timezone.now() + timedelta(seconds=2))
    table = client_for(member).get(f"/projects/{project.slug}/deployments/").text
    assert "Check failed" in table
    assert "terraform plan failed: boom" in client_for(member).get(drift_url(project)).text
