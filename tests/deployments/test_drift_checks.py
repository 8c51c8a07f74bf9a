"""Drift found on a schedule, through a real worker with Celery beat, Terraform and the local cloud: a label
set, a column dropped and a table deleted outside Hangar are found by the next scheduled check, with the
exact attributes; the deployments table and the API show it; Reconcile puts everything back."""

import pytest
from rest_framework.test import APIClient

from deployments.drift.models import DriftCheck
from deployments.runs.choices import RunStatus
from deployments.runs.models import Deployment
from deployments.runs.services import run_start
from tests.deployments.conftest import wait_for
from tests.deployments.helpers import localcloud_resources, names_by_type, wait_finished
from tests.localcloud_fixtures import localcloud_cli

pytestmark = [pytest.mark.worker, pytest.mark.terraform, pytest.mark.django_db(transaction=True)]
DEV = "sc-123-example-dev"


def newest_check(deployment: Deployment, after: int) -> DriftCheck | None:
    return (
        DriftCheck.objects.filter(deployment=deployment, pk__gt=after, status=DriftCheck.Status.FINISHED)
        .order_by("-id")
        .first()
    )


def test_the_schedule_finds_drift_with_its_attributes_and_reconcile_repairs_it(
    start_worker, worker_env, upload, project, lead, member, localcloud, client_for
):
    worker_env.update(DRIFT_CHECK_INTERVAL="4", DRIFT_SWEEP_INTERVAL="1")
    start_worker(beat=True)
    upload(project, lead, "0.1.0", tables=["summary", "details"], deletion_protection=False)
    deployed = wait_finished(run_start(project=project, environment="dev", target="local", version="0.1.0",
                                       operation="apply", user=lead))  # fmt: skip
    assert deployed.status == RunStatus.SUCCEEDED, deployed.error
    deployment = deployed.deployment

    first = wait_for(lambda: newest_check(deployment, 0), timeout=120, message="the first scheduled check")
    assert first.outcome == "in_sync", first.error
    assert first.requested_by is None and first.would_change is None  # the schedule; nothing to plan again

    cloud = ("--url", localcloud.url)
    localcloud_cli(*cloud, "set-label", "--project", DEV, "dataset", "example_reports", "cost_center=finance")
    localcloud_cli(*cloud, "drop-column", "--project", DEV, "example_reports.summary", "team")
    localcloud_cli(*cloud, "delete", "--project", DEV, "table", "example_reports.details")

    def drifted():
        check = newest_check(deployment, first.pk)
        return check if check and check.outcome == "drifted" and check.drifted_count == 3 else None

    check = wait_for(drifted, timeout=120, message="a scheduled check to find the three changes")
    found = {resource["address"]: resource for resource in check.resources}
    dataset = found["module.dataset_example_reports.localcloud_dataset.this"]
    assert dataset["dsl"] == {"kind": "dataset", "name": "example_reports"}
    assert {"path": "labels.cost_center", "before": None, "after": "finance",
            "sentence": "label `cost_center` added (finance)"} in dataset["changes"]  # fmt: skip
    summary = next(r for r in check.resources if r["dsl"] == {"kind": "table", "name": "example_reports.summary"})
    assert summary["action"] == "update"
    assert [c["sentence"] for c in summary["changes"]] == ["column `team` removed (was STRING NULLABLE, “Owning team”)"]
    details = next(r for r in check.resources if r["dsl"] == {"kind": "table", "name": "example_reports.details"})
    assert details["action"] == "delete"
    assert check.would_change == {"add": 1, "change": 2, "destroy": 0}  # what Reconcile will do
    assert "resource_drift" in check.log  # Terraform's own -json messages are kept

    table = client_for(member).get(f"/projects/{project.slug}/deployments/").text
    assert "Drifted (3)" in table
    api = APIClient()
    api.force_authenticate(member)
    [row] = [r for r in api.get(f"/api/projects/{project.slug}/deployments/").json() if r["environment"] == "dev"]
    assert row["health"]["status"] == "drifted" and row["health"]["check"] == check.pk
    assert set(row["health"]["drifted"]) == set(found)
    detail = api.get(f"/api/drift-checks/{check.pk}/").json()
    assert detail["outcome"] == "drifted" and len(detail["resources"]) == 3
    page = client_for(member).get(f"/projects/{project.slug}/deployments/dev/local/drift/").text
    assert "label <code>cost_center</code> added (finance)" in page and "Reconcile" in page

    # Reconcile: the deployed version again. The cloud is as defined once more, and the next check says so.
    reconcile = wait_finished(run_start(project=project, environment="dev", target="local", version="0.1.0",
                                        operation="apply", user=member))  # fmt: skip
    assert reconcile.status == RunStatus.SUCCEEDED, reconcile.error
    tables = names_by_type(localcloud_resources(localcloud, DEV))["table"]
    assert tables == {"example_reports.summary", "example_reports.details"}
    shown = localcloud_cli(*cloud, "show", "--project", DEV, "table", "example_reports.summary")
    assert "team" in [column["name"] for column in shown["columns"]]
    reconciled = wait_for(
        lambda: DriftCheck.objects.filter(deployment=deployment, outcome="in_sync", started_at__gt=reconcile.finished_at)
        .order_by("-id")
        .first(),
        timeout=120,
        message="a check after the reconcile",
    )  # fmt: skip
    deployment.refresh_from_db()
    assert deployment.last_drift_check_id >= reconciled.pk
    assert "In sync" in client_for(member).get(f"/projects/{project.slug}/deployments/").text
    # No check wrote the state: every version of it comes from the applies (the reconcile put back exactly the
    # state there was, which Terraform does not store again).
    assert set(deployment.state_versions.values_list("run_id", flat=True)) <= {None, deployed.pk, reconcile.pk}
