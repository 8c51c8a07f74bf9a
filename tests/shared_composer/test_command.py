"""setup_shared_composer: the platform team and project, a lead, and a first deploy of the definition."""

import pytest
from django.core.management import CommandError, call_command

from deployments.runs.models import Run
from onboarding.models import Membership, Project, Role

pytestmark = pytest.mark.django_db


def test_setup_creates_the_platform_project_once_and_deploys(shared_settings, lead, capsys):
    call_command("setup_shared_composer", "--lead", lead.username, "--deploy")
    out = capsys.readouterr().out
    assert "Shared composer project: sc-1-msc (team platform)" in out
    assert "Version 0.1.0 queued for dev" in out
    project = Project.objects.get(slug="sc-1-msc")
    assert Membership.objects.get(team=project.team, user=lead).role == Role.LEAD
    [run] = Run.objects.filter(artifact__project=project)
    assert run.deployment.environment.name == "dev"
    call_command("setup_shared_composer")
    assert Project.objects.filter(slug="sc-1-msc").count() == 1


def test_setup_refuses_an_unknown_lead(shared_settings):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("setup_shared_composer", "--lead", "nobody")
