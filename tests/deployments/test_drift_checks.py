"""Drift found on a schedule, through a real worker with Celery beat, Terraform and the local cloud: a label
set, a column dropped and a table deleted outside Hangar are found by the next scheduled check, with the
exact attributes; the deployments table and the API show it; Reconcile puts everything back."""

import io
import json

import pytest
from rest_framework.test import APIClient

from deployments.artifacts.build import build_artifact
from deployments.artifacts.services import artifact_upload
from deployments.drift import services
from deployments.drift.models import DriftCheck
from deployments.runs.choices import RunStatus
from deployments.runs.models import Deployment
from deployments.runs.services import run_start
from tests.deployments.conftest import wait_for, write_project
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
    assert services.drift_messages(first.log) == 0

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
    # Terraform's own -json messages are kept: the refresh-only plan's three drifts, and the normal plan's same three.
    assert services.drift_messages(check.log) == 6

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


def test_an_unmanaged_dataset_is_not_drift_and_check_now_finds_the_rest(
    start_worker, media, project, lead, member, localcloud, tmp_path
):
    """`managed: false`: the dataset is someone else's. Labels set on it are not drift; its table is Hangar's."""
    start_worker()
    source = write_project(tmp_path / "src", tables=["summary"], deletion_protection=False)
    (source / "infrastructure" / "dev" / "main.yaml").write_text(
        "infrastructure:\n  gcp:\n    datasets:\n      - name: landing\n        managed: false\n        tables:\n"
        '          - name: events\n            parameters:\n              schema: "file:bq_schemas/summary.json"\n'
        "              deletion_protection: false\n"
    )
    built = build_artifact(source_dir=source, version="0.1.0", project_slug=project.slug, builder="tests")
    artifact_upload(project=project, fileobj=io.BytesIO(built.content), user=lead)
    cloud = ("--url", localcloud.url)
    localcloud_cli(*cloud, "create", "--project", DEV, "dataset", "landing")  # made elsewhere, before Hangar
    deployed = wait_finished(run_start(project=project, environment="dev", target="local", version="0.1.0",
                                       operation="apply", user=lead))  # fmt: skip
    assert deployed.status == RunStatus.SUCCEEDED, deployed.error

    api = APIClient()
    api.force_authenticate(member)
    url = f"/api/projects/{project.slug}/deployments/dev/local/check/"

    def check_now() -> dict:
        started = api.post(url)
        assert started.status_code == 202, started.content

        def done():
            body = api.get(f"/api/drift-checks/{started.json()['id']}/").json()
            return body if body["status"] in ("finished", "skipped") else None

        return wait_for(done, timeout=120, message="the check to finish")

    localcloud_cli(*cloud, "set-label", "--project", DEV, "dataset", "landing", "owner=elsewhere")
    quiet = check_now()
    assert (quiet["status"], quiet["outcome"], quiet["resources"]) == ("finished", "in_sync", [])
    assert quiet["requested_by"] == "bob"

    localcloud_cli(*cloud, "set-label", "--project", DEV, "table", "landing.events", "owner=elsewhere")
    found = check_now()
    assert found["outcome"] == "drifted"
    [resource] = found["resources"]
    assert resource["dsl"] == {"kind": "table", "name": "landing.events"}
    assert [change["sentence"] for change in resource["changes"]] == ["label `owner` added (elsewhere)"]


def test_accept_reality_makes_the_next_check_in_sync(start_worker, upload, project, lead, member, localcloud):
    """After Accept reality the state holds what is there: the next check is In sync, and says that a deploy of
    the same version would change it back."""
    start_worker()
    upload(project, lead, "0.1.0")
    deployed = wait_finished(run_start(project=project, environment="dev", target="local", version="0.1.0",
                                       operation="apply", user=lead))  # fmt: skip
    assert deployed.status == RunStatus.SUCCEEDED, deployed.error
    deployment = deployed.deployment
    localcloud_cli("--url", localcloud.url, "set-label", "--project", DEV, "dataset", "example_reports", "tier=gold")

    def checked(user) -> DriftCheck:
        check = services.drift_check_start(deployment=Deployment.objects.get(pk=deployment.pk), user=user)
        return wait_for(lambda: DriftCheck.objects.filter(pk=check.pk, status="finished").first(), timeout=120,
                        message=f"check #{check.pk}")  # fmt: skip

    drifted = checked(member)
    assert drifted.outcome == "drifted" and drifted.drifted_count == 1

    accepted = wait_finished(run_start(project=project, environment="dev", target="local", version="0.1.0",
                                       operation="refresh", user=lead))  # fmt: skip
    assert accepted.status == RunStatus.SUCCEEDED, accepted.error
    after = checked(lead)
    assert after.outcome == "in_sync" and after.resources == []
    assert after.would_change == {"add": 0, "change": 1, "destroy": 0}  # the definition would take the label away
    shown = localcloud_cli("--url", localcloud.url, "show", "--project", DEV, "dataset", "example_reports")
    assert '"tier": "gold"' in json.dumps(shown)  # nothing in the cloud changed
