"""Who may onboard and offboard: a lead of the project's team, or an admin; refusals say why."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from deployments.runs.models import Run
from onboarding import services
from onboarding.models import Membership, Role, SharedChange, SharedMembership
from onboarding.shared_composer.services import onboarding_refusal, shared_offboard, shared_onboard

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local(shared_settings):
    return shared_settings


def test_a_lead_onboards_and_dev_is_queued(project, lead):
    change = shared_onboard(project=project, user=lead)
    assert change.kind == SharedChange.Kind.ONBOARD and change.version == "0.1.0"
    [run] = Run.objects.filter(artifact=change.artifact)
    assert (run.deployment.environment.gcp_project_id, run.operation, run.status) == ("sc-1-msc-dev", "apply", "queued")
    assert run.requested_by.username == "hangar-shared-composer"
    membership = SharedMembership.objects.get(project=project)
    assert membership.state == SharedMembership.State.JOINING and membership.requested_by == lead
    # The platform project was created on the way, with the system account as a member of its team.
    platform = change.artifact.project
    assert platform.slug == "sc-1-msc" and platform.team.slug == "platform"


@pytest.mark.parametrize("who", ["member", "viewer", "outsider"])
def test_only_leads_onboard(request, project, who):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied, match="Only a lead of Data Engine"):
        shared_onboard(project=project, user=user)
    assert not SharedMembership.objects.exists()


def test_an_admin_onboards_and_offboards(project, admin_user):
    shared_onboard(project=project, user=admin_user)
    change = shared_offboard(project=project, user=admin_user)
    assert change.kind == SharedChange.Kind.OFFBOARD and change.version == "0.1.1"
    assert SharedMembership.objects.get(project=project).state == SharedMembership.State.LEAVING


@pytest.mark.parametrize("who", ["member", "viewer", "outsider"])
def test_only_leads_offboard(request, project, lead, who):
    shared_onboard(project=project, user=lead)
    with pytest.raises(PermissionDenied, match="Only a lead of Data Engine"):
        shared_offboard(project=project, user=request.getfixturevalue(who))
    assert SharedMembership.objects.get(project=project).state == SharedMembership.State.JOINING


def test_a_member_cannot_join_twice(project, lead):
    shared_onboard(project=project, user=lead)
    with pytest.raises(ValidationError, match="already a member of the shared Airflow"):
        shared_onboard(project=project, user=lead)
    assert SharedMembership.objects.count() == 1


def test_a_team_without_a_lead_is_refused(project, lead, admin_user):
    Membership.objects.filter(team=project.team, role=Role.LEAD).update(role=Role.MEMBER)
    reason = onboarding_refusal(project=project, user=admin_user)
    assert reason.startswith("Team Data Engine has no lead")
    with pytest.raises(ValidationError, match="has no lead"):
        shared_onboard(project=project, user=admin_user)


def test_offboarding_a_non_member_is_refused(project, lead):
    with pytest.raises(ValidationError, match="is not a member"):
        shared_offboard(project=project, user=lead)


def test_the_shared_environment_cannot_join_itself(project, lead, admin_user):
    change = shared_onboard(project=project, user=lead)
    with pytest.raises(ValidationError, match="is the shared environment itself"):
        shared_onboard(project=change.artifact.project, user=admin_user)


def test_pages_refuse_non_leads(client_for, project, lead, member, outsider):
    shared_onboard(project=project, user=lead)
    response = client_for(outsider).post(f"/projects/{project.slug}/shared-composer/leave/")
    assert response.status_code == 404
    response = client_for(member).post(f"/projects/{project.slug}/shared-composer/leave/", follow=True)
    assert "Only a lead of Data Engine" in response.content.decode()
    assert SharedMembership.objects.get(project=project).state == SharedMembership.State.JOINING
    # A member sees the project's section but no button to leave.
    page = client_for(member).get(f"/projects/{project.slug}/").content.decode()
    assert "Shared Airflow: joining" in page and "Leave the shared Airflow" not in page


def test_the_wizard_refuses_a_non_lead_with_the_reason(client_for, project, member):
    response = client_for(member).post(
        "/shared-composer/onboard/", {"service_control_id": "123", "name": "example", "team": ""}
    )
    assert "Only a lead of Data Engine (or an admin) can onboard sc-123-example" in response.content.decode()


def test_the_wizard_hides_other_teams_projects(client_for, project, make_user):
    stranger = make_user("sam")
    services.team_create(name="Other", lead=stranger)
    response = client_for(stranger).post(
        "/shared-composer/onboard/", {"service_control_id": "123", "name": "example", "team": ""}
    )
    assert "registered for a team you are not in" in response.content.decode()
    assert client_for(stranger).get(f"/shared-composer/changes/{1}/").status_code == 404
