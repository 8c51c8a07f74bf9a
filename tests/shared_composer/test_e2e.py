"""End to end: onboarding builds and deploys the shared definition with a real worker and real Terraform,
and the local cloud shows the grants; offboarding removes them."""

import pytest

from deployments.runs.choices import RunStatus
from onboarding.models import SharedChange, SharedMembership
from onboarding.shared_composer.services import change_runs, shared_approve, shared_offboard, shared_onboard
from portal.models import AuditEvent
from tests.deployments.conftest import wait_for
from tests.deployments.helpers import localcloud_resources, wait_finished

pytestmark = [pytest.mark.worker, pytest.mark.terraform, pytest.mark.django_db(transaction=True)]

SCHEDULER = "serviceAccount:bigdata-scheduler@sc-1-msc-{stage}.iam.gserviceaccount.com"
GROUP = "group:data-engine@groups.hangar.local"


def grants(cloud, stage="dev"):
    """What the local cloud really has for the member in one stage."""
    member = {r["type"] + " " + r["name"]: r for r in localcloud_resources(cloud, f"sc-123-example-{stage}")}
    platform = localcloud_resources(cloud, f"sc-1-msc-{stage}")
    account = member.get("service_account bigdata-compute")
    bucket = next((r for r in platform if r["type"] == "bucket"), None)
    return {
        "impersonation": account["attributes"]["iam_policy"] if account else None,
        "dags": {k: v for k, v in (bucket["attributes"]["iam_policy"] if bucket else {}).items() if "dags/" in k},
        "composer_user": sorted(
            r["attributes"]["member"]
            for r in platform
            if r["type"] == "iam_member" and r["attributes"]["role"] == "roles/composer.user"
        ),
    }


def only_run(change, stage):
    runs = [run for run in change_runs(change) if run.deployment.environment.name == stage]
    assert runs, f"no {stage} run for {change}"
    return wait_finished(runs[0])


def test_onboard_grants_in_dev_and_offboard_removes_them(start_worker, policy, project, lead, localcloud):
    start_worker()
    change = shared_onboard(project=project, user=lead)
    assert change.version == "0.1.0" and change.artifact.project.slug == "sc-1-msc"

    dev = only_run(change, "dev")
    assert dev.status == RunStatus.SUCCEEDED, dev.error
    # The worker records the outcome on the membership right after the run's own commit.
    membership = wait_for(
        lambda: SharedMembership.objects.filter(project=project, state="active").first(), timeout=30, message="joined"
    )
    assert membership.joined_at
    assert membership.created_accounts == ["dev", "test", "prod"]
    change.refresh_from_db()
    assert change.awaiting_stage == "test"  # policy "approval": test waits

    found = grants(localcloud)
    assert found["impersonation"] == {"roles/iam.serviceAccountTokenCreator": [SCHEDULER.format(stage="dev")]}
    assert found["dags"] == {"roles/storage.objectAdmin on dags/sc-123-example/": [GROUP]}
    assert found["composer_user"] == [GROUP]
    assert dev.outputs["shared_msc_members"]["members"]["sc-123-example"]["dag_folder"].endswith(
        "/dags/sc-123-example/"
    )

    leave = shared_offboard(project=project, user=lead)
    assert leave.version == "0.1.1"
    dev = only_run(leave, "dev")
    assert dev.status == RunStatus.SUCCEEDED, dev.error
    membership = wait_for(
        lambda: SharedMembership.objects.filter(project=project, state="left").first(), timeout=30, message="left"
    )
    assert membership.left_at and membership.left_by == lead
    assert grants(localcloud) == {"impersonation": None, "dags": {}, "composer_user": []}
    # The shared environment itself stays.
    assert any(r["type"] == "composer_environment" for r in localcloud_resources(localcloud, "sc-1-msc-dev"))
    actions = list(AuditEvent.objects.filter(object_repr="sc-123-example").values_list("action", flat=True))
    for action in (
        "shared_composer.onboard",
        "shared_composer.joined",
        "shared_composer.offboard",
        "shared_composer.left",
    ):
        assert action in actions


def test_approval_promotes_to_the_next_stage(start_worker, policy, project, lead, admin_user, localcloud):
    start_worker()
    change = shared_onboard(project=project, user=lead)
    assert only_run(change, "dev").status == RunStatus.SUCCEEDED
    wait_for(lambda: SharedChange.objects.get(pk=change.pk).awaiting_stage == "test", timeout=30, message="approval")
    shared_approve(change=change, user=admin_user)
    test = only_run(change, "test")
    assert test.status == RunStatus.SUCCEEDED, test.error
    assert grants(localcloud, "test")["composer_user"] == [GROUP]
    wait_for(lambda: SharedChange.objects.get(pk=change.pk).awaiting_stage == "prod", timeout=30, message="prod")


def test_auto_promotion_goes_dev_test_prod(start_worker, policy, project, lead, localcloud):
    policy("auto")
    start_worker()
    change = shared_onboard(project=project, user=lead)
    wait_for(lambda: len(change_runs(change)) == 3, timeout=240, message="runs in dev, test and prod")
    runs = [wait_finished(run) for run in change_runs(change)]
    assert [(r.deployment.environment.name, r.status) for r in runs] == [
        ("dev", "succeeded"),
        ("test", "succeeded"),
        ("prod", "succeeded"),
    ]
    assert runs[0].finished_at <= runs[1].created_at and runs[1].finished_at <= runs[2].created_at
    found = grants(localcloud, "prod")
    assert found["impersonation"] == {"roles/iam.serviceAccountTokenCreator": [SCHEDULER.format(stage="prod")]}
    assert found["composer_user"] == [GROUP]
