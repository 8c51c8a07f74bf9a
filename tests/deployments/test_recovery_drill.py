"""Recovery drills, end to end: a project deployed for real (worker, Terraform, sandbox, local cloud) is
recreated in a throw-away local cloud and compared with the live one; drift made outside Terraform shows
as exact differences; the live cloud and state never change; the drill cloud is gone afterwards."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from deployments.artifacts.build import build_artifact
from deployments.artifacts.services import artifact_upload
from deployments.drills.models import RecoveryDrill, RecoveryDrillEnvironment
from deployments.runs.choices import RunStatus
from deployments.runs.models import Deployment
from deployments.runs.services import run_start
from deployments.state.models import StateVersion
from tests.deployments.conftest import wait_for
from tests.deployments.helpers import wait_finished
from tests.localcloud_fixtures import localcloud_cli

pytestmark = [pytest.mark.worker, pytest.mark.terraform, pytest.mark.django_db(transaction=True)]

ORDERS = [
    {"name": "id", "type": "INTEGER", "mode": "REQUIRED"},
    {"name": "dt", "type": "DATE", "mode": "REQUIRED"},
    {"name": "note", "type": "STRING", "mode": "NULLABLE", "description": "Free text"},
]
# Every kind of resource the DSL makes: a composer (with its DAG bucket and service account), a dataset and
# a table with a schema, labels on each, a service account and the composer's IAM binding on it.
MAIN_YAML = """\
infrastructure:
  gcp:
    composers:
      - name: drill-composer
        custom_labels: {{purpose: drill}}
    datasets:
      - name: sales
        parameters:
          description: {description}
          custom_labels: {{domain: sales}}
        tables:
          - name: orders
            parameters:
              schema: "file:bq_schemas/orders.json"
              custom_labels: {{tier: gold}}
              deletion_protection: false
    service_accounts:
      - name: drill-compute
        display_name: Runs the drill project's processing
        impersonated_by:
          - composer:drill-composer
"""
DEV, TEST = "sc-123-example-dev", "sc-123-example-test"


@pytest.fixture
def drill_settings(settings, worker_env, tmp_path):
    settings.RUN_WORKSPACE_DIR = tmp_path / "runs"  # the same as the worker's
    settings.SPECULATIVE_PLANS = False
    worker_env["SPECULATIVE_PLANS"] = "false"
    return settings


def upload_version(project, user, tmp_path: Path, version: str, description: str):
    source = tmp_path / f"src-{version}"
    (source / "infrastructure" / "bq_schemas").mkdir(parents=True)
    (source / "infrastructure" / "bq_schemas" / "orders.json").write_text(json.dumps(ORDERS))
    (source / "hangar.yaml").write_text("service_control_id: 123\nname: example\nteam: data-engine\n")
    for env in ("dev", "test", "prod"):
        (source / "infrastructure" / env).mkdir()
        (source / "infrastructure" / env / "main.yaml").write_text(MAIN_YAML.format(description=description))
    built = build_artifact(source_dir=source, version=version, project_slug=project.slug, builder="tests")
    artifact, _ = artifact_upload(project=project, fileobj=io.BytesIO(built.content), user=user)
    return artifact


def deploy(project, user, environment: str, version: str) -> None:
    run = run_start(project=project, environment=environment, target="local", version=version, operation="apply",
                    user=user)  # fmt: skip
    wait_finished(run)
    assert run.status == RunStatus.SUCCEEDED, run.error


def live_snapshot(cloud) -> dict:
    """The live cloud's inventory and every state version of every deployment."""
    return {
        "inventory": {p: cloud.client().list_resources(p) for p in (DEV, TEST, "sc-123-example-prod")},
        "states": list(StateVersion.objects.order_by("id").values_list("deployment_id", "serial", "sha256")),
        "deployments": list(
            Deployment.objects.order_by("id").values_list("id", "active_run_id", "lock_id", "deployed_artifact_id")
        ),
    }


def rows(drill) -> dict[str, RecoveryDrillEnvironment]:
    return {
        row.deployment.environment.name: row for row in drill.environments.select_related("deployment__environment")
    }


def test_a_drill_rebuilds_everything_elsewhere_and_measures_parity(
    start_worker, drill_settings, project, lead, admin_user, localcloud, tmp_path, client_for
):
    start_worker()
    upload_version(project, lead, tmp_path, "0.1.0", "Sales of the example project")
    upload_version(project, lead, tmp_path, "0.2.0", "Sales, second edition")
    deploy(project, lead, "dev", "0.1.0")
    deploy(project, lead, "test", "0.2.0")
    before = live_snapshot(localcloud)

    # The command: synchronous, in this process; every environment recreated and identical.
    out, err = io.StringIO(), io.StringIO()
    call_command("recovery_drill", stdout=out, stderr=err)
    report = out.getvalue()
    assert f"- {DEV} / local (version 0.1.0): recreated" in report and "parity yes" in report, report
    assert f"- {TEST} / local (version 0.2.0): recreated" in report, report
    assert "parity no" not in report and "prod" not in report  # prod runs nothing: not part of the drill
    first = RecoveryDrill.objects.get()
    assert first.status == RecoveryDrill.Status.FINISHED and first.started_by is None and first.finished_at
    found = rows(first)
    assert [found["dev"].position, found["test"].position] == [0, 1]
    for row in found.values():
        assert (row.status, row.parity, row.differences, row.error) == ("recreated", True, [], "")
        assert row.seconds > 0
    assert found["test"].artifact.version == "0.2.0"
    assert first.cloud_root and not Path(first.cloud_root).exists()  # the drill cloud is gone
    assert not list((tmp_path / "runs").iterdir())  # and so are the workspaces
    assert live_snapshot(localcloud) == before  # the live cloud and the live state are untouched

    # Drift outside Terraform on dev.
    localcloud_cli("set-label", "--project", DEV, "dataset", "sales", "domain=changed")
    localcloud_cli("drop-column", "--project", DEV, "sales.orders", "note")
    drifted = live_snapshot(localcloud)

    # Non-admins are refused the button, the list and the report.
    lead_client = client_for(lead)
    assert lead_client.post(reverse("recovery_drill_start")).status_code == 403
    assert lead_client.get(reverse("operations")).status_code == 403
    assert lead_client.get(reverse("recovery_drill", args=[first.pk])).status_code == 403
    assert RecoveryDrill.objects.count() == 1

    # The button: the drill goes to the worker.
    admin = client_for(admin_user)
    response = admin.post(reverse("recovery_drill_start"))
    second = RecoveryDrill.objects.latest("id")
    assert response.status_code == 302 and response["Location"] == second.get_absolute_url()
    assert second.started_by == admin_user and second.project is None
    wait_for(lambda: RecoveryDrill.objects.get(pk=second.pk).is_finished, timeout=300, message="the drill")
    second.refresh_from_db()
    assert second.status == RecoveryDrill.Status.FINISHED, second.error
    found = rows(second)
    assert found["test"].parity is True
    assert found["dev"].status == "recreated" and found["dev"].parity is False
    assert [d["message"] for d in found["dev"].differences] == [
        "dataset `sales`: label `domain` is `changed` in the live cloud, `sales` in the drill",
        "table `sales.orders`: column `note` missing in the live cloud",
    ]
    assert not Path(second.cloud_root).exists()
    assert live_snapshot(localcloud) == drifted

    page = admin.get(reverse("operations")).content.decode()
    assert f'href="{second.get_absolute_url()}"' in page and "Start a recovery drill" in page
    detail = admin.get(second.get_absolute_url()).content.decode()
    assert "column `note` missing in the live cloud" in detail and "<strong>no</strong>" in detail

    # A version that no longer unpacks (its stored zip changed) fails its environment; the others go on.
    broken = found["test"].artifact
    with broken.file.open("ab") as stored:
        stored.write(b"tampered")
    out = io.StringIO()
    with pytest.raises(CommandError, match="did not pass"):
        call_command("recovery_drill", "--project", project.slug, stdout=out, stderr=io.StringIO())
    report = out.getvalue()
    third = RecoveryDrill.objects.latest("id")
    assert third.project == project and third.status == RecoveryDrill.Status.FINISHED
    found = rows(third)
    assert found["test"].status == "failed" and found["test"].parity is None
    assert "changed since it was uploaded" in found["test"].error or "no longer passes" in found["test"].error
    assert found["dev"].status == "recreated" and found["dev"].parity is False
    assert f"- {TEST} / local (version 0.2.0): failed" in report and "parity not compared" in report, report
    assert "column `note` missing in the live cloud" in report
    assert live_snapshot(localcloud) == drifted


def test_the_shared_airflow_platform_is_recreated_first_and_its_grants_compared(
    start_worker, drill_settings, worker_env, project, lead, localcloud, tmp_path
):
    from onboarding.shared_composer.services import change_runs, shared_onboard

    drill_settings.SHARED_COMPOSER_PROMOTION = worker_env["SHARED_COMPOSER_PROMOTION"] = "approval"  # dev only
    start_worker()
    change = shared_onboard(project=project, user=lead)
    [platform_run] = [run for run in change_runs(change) if run.deployment.environment.name == "dev"]
    assert wait_finished(platform_run).status == RunStatus.SUCCEEDED, platform_run.error
    upload_version(project, lead, tmp_path, "0.1.0", "Sales of the example project")
    deploy(project, lead, "dev", "0.1.0")
    before = live_snapshot(localcloud)

    out = io.StringIO()
    call_command("recovery_drill", "--project", project.slug, stdout=out, stderr=io.StringIO())  # a member
    report = out.getvalue()
    drill = RecoveryDrill.objects.get()
    ordered = list(drill.environments.order_by("position").select_related("deployment__environment"))
    assert [str(row.deployment) for row in ordered] == ["sc-1-msc-dev / local", f"{DEV} / local"], report
    for row in ordered:
        assert (row.status, row.parity, row.differences) == ("recreated", True, []), report
    # The member's project (with the platform's grants in it) is compared once, under its own environment.
    assert [row.compared_projects for row in ordered] == [["sc-1-msc-dev"], [DEV]]
    assert not Path(drill.cloud_root).exists()
    assert live_snapshot(localcloud) == before
