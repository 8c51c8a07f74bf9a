"""The platform project's runs may change the member projects whose grants they manage, and no others."""

import pytest

from deployments.runs.cloud_access import run_cloud_projects
from deployments.runs.models import Run
from onboarding import services
from onboarding.models import SharedMembership
from onboarding.shared_composer.services import change_runs, member_project_ids, shared_offboard, shared_onboard

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local(shared_settings):
    return shared_settings


def test_the_platform_run_gets_its_members_projects(project, lead, team):
    other = services.project_register(service_control_id=456, name="reports", team=team, user=lead)
    services.project_register(service_control_id=789, name="bystander", team=team, user=lead)
    shared_onboard(project=project, user=lead)
    change = shared_onboard(project=other, user=lead)
    [dev] = change_runs(change)
    assert run_cloud_projects(dev) == ["sc-1-msc-dev", "sc-123-example-dev", "sc-456-reports-dev"]
    assert member_project_ids(stage="prod") == ["sc-123-example-prod", "sc-456-reports-prod"]


def test_a_member_that_left_stays_in_scope_until_its_grants_are_gone_in_that_stage(project, lead):
    shared_onboard(project=project, user=lead)
    SharedMembership.objects.update(state="active")
    leave = shared_offboard(project=project, user=lead)
    assert member_project_ids(stage="dev") == ["sc-123-example-dev"], "leaving: its grants are being removed"
    [dev] = change_runs(leave)
    Run.objects.filter(pk=dev.pk).update(status="succeeded")
    SharedMembership.objects.update(state="left")
    assert member_project_ids(stage="dev") == [], "removed in dev: out of scope there"
    assert member_project_ids(stage="test") == ["sc-123-example-test"], "test still holds its grants"


def test_a_member_projects_run_does_not_get_the_platform_project(project, lead, upload):
    shared_onboard(project=project, user=lead)
    upload(project, lead, "0.1.0")
    from deployments.runs.services import run_start

    run = run_start(project=project, environment="dev", target="local", version="0.1.0", operation="plan", user=lead)
    assert run_cloud_projects(run) == ["sc-123-example-dev"]
