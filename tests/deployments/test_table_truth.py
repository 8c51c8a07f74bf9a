"""The deployments table tells the truth: what is deployed comes from the last successful apply,
the last run is its own column, and the Deploy form's version says what each version is."""

import re

import pytest
from django.apps import apps
from django.urls import reverse
from rest_framework.test import APIClient

from deployments.pages.selectors import deployment_rows
from deployments.runs import services as runs
from deployments.runs.choices import RunStatus
from deployments.runs.models import Deployment, Run


@pytest.fixture
def versions(upload, project, lead):
    return [upload(project, lead, v) for v in ("0.9.0", "0.10.0", "0.11.0-rc.1")]


def finish(project, user, version, *, env="dev", operation="apply", status=RunStatus.SUCCEEDED) -> Run:
    run = runs.run_start(
        project=project, environment=env, target="local", version=version, operation=operation, user=user
    )
    runs.run_dispatch(deployment_id=run.deployment_id)
    runs.run_finish(run=runs.run_claim(run_id=run.pk, worker="w"), status=status)
    return Run.objects.get(pk=run.pk)


def row_of(project, env="dev"):
    return next(row for row in deployment_rows(project=project) if row.environment.name == env)


def table_row(page: str, label: str) -> str:
    """The <tr> of the deployments table whose environment is `label`."""
    match = re.search(rf"<tr>\s*<td><a [^>]*>{label}</a></td>.*?</tr>", page, re.S)
    assert match, f"no row {label}"
    return match.group(0)


def api_row(user, project, env="dev") -> dict:
    api = APIClient()
    api.force_authenticate(user)
    rows = api.get(f"/api/projects/{project.slug}/deployments/").json()
    return next(row for row in rows if row["environment"] == env)


def test_a_plan_does_not_change_deployed_by_or_at(client_for, lead, member, project, versions):
    applied = finish(project, lead, "0.9.0")
    plan = finish(project, member, "0.10.0", operation="plan")
    row = row_of(project)
    assert (row.version, row.deployed_by, row.deployed_at) == ("0.9.0", "alice", applied.finished_at)
    assert row.run == plan
    cells = table_row(client_for(lead).get(reverse("project_deployments", args=[project.slug])).text, "Development")
    assert "0.9.0" in cells and "alice" in cells and "bob" not in cells
    assert "Plan" in cells and "Succeeded" in cells and plan.get_absolute_url() in cells


def test_a_failed_plan_leaves_the_deployed_row_truthful_with_last_run_failed(client_for, lead, project, versions):
    applied = finish(project, lead, "0.9.0")
    failed = finish(project, lead, "0.11.0-rc.1", operation="plan", status=RunStatus.FAILED)
    cells = table_row(client_for(lead).get(reverse("project_deploy", args=[project.slug])).text, "Development")
    assert "0.9.0" in cells and "0.11.0-rc.1" not in cells
    assert "Plan" in cells and "Failed" in cells and failed.get_absolute_url() in cells
    assert applied.finished_at.strftime("%d/%m/%Y, %H:%M") in cells
    body = api_row(lead, project)
    assert (body["deployed_version"], body["deployed_by"], body["status"]) == ("0.9.0", "alice", "failed")
    assert (body["last_run"], body["last_run_operation"], body["last_run_status"]) == (failed.pk, "plan", "failed")
    assert body["last_run_at"] is not None and body["deployed_at"] is not None
    assert body["deployed_at"] != body["last_run_at"]


def test_a_destroy_leaves_the_row_not_deployed(client_for, lead, project, versions):
    finish(project, lead, "0.9.0")
    finish(project, lead, "0.9.0", operation="destroy")
    row = row_of(project)
    assert (row.version, row.deployed_by, row.deployed_at, row.deployment.deployed_run) == (None, None, None, None)
    cells = table_row(client_for(lead).get(reverse("project_deployments", args=[project.slug])).text, "Development")
    assert "not deployed" in cells and "Destroy" in cells
    body = api_row(lead, project)
    assert (body["deployed_version"], body["deployed_by"], body["deployed_at"]) == (None, None, None)
    assert (body["last_run_operation"], body["last_run_status"]) == ("destroy", "succeeded")


def test_a_failed_apply_keeps_the_version_deployed_before(lead, project, versions):
    applied = finish(project, lead, "0.9.0")
    finish(project, lead, "0.10.0", status=RunStatus.FAILED)
    deployment = Deployment.objects.get()
    assert (deployment.deployed_artifact.version, deployment.deployed_run) == ("0.9.0", applied)


def test_api_rows_never_deployed_have_null_last_run_fields(lead, project, versions):
    body = api_row(lead, project, env="prod")
    assert {
        key: body[key] for key in ("last_run", "last_run_operation", "last_run_status", "last_run_at")
    } == dict.fromkeys(("last_run", "last_run_operation", "last_run_status", "last_run_at"))


def version_options(page: str) -> dict[str, tuple[str, bool]]:
    select = re.search(r'<select name="version".*?</select>', page, re.S).group(0)
    return {
        value: (label.strip(), bool(selected))
        for value, selected, label in re.findall(r'<option value="([^"]+)"( selected)?>([^<]*)</option>', select)
    }


def test_the_version_defaults_to_the_newest_release_when_nothing_is_deployed(client_for, member, project, versions):
    options = version_options(client_for(member).get(reverse("project_deploy", args=[project.slug])).text)
    assert list(options) == ["0.11.0-rc.1", "0.10.0", "0.9.0"]
    assert [value for value, (_, selected) in options.items() if selected] == ["0.10.0"]
    assert options["0.11.0-rc.1"][0] == "0.11.0-rc.1 (pre-release)"
    assert options["0.10.0"][0] == "0.10.0"


def test_the_version_defaults_to_the_deployed_one_and_marks_each_option(client_for, lead, member, project, versions):
    finish(project, lead, "0.9.0", env="dev")
    finish(project, lead, "0.9.0", env="prod")
    finish(project, lead, "0.10.0", env="test")
    finish(project, lead, "0.11.0-rc.1", env="test", operation="plan", status=RunStatus.FAILED)
    finish(project, lead, "0.10.0", env="dev", operation="plan", status=RunStatus.FAILED)
    finish(project, lead, "0.10.0", env="prod", operation="plan")  # the latest plan of 0.10.0 succeeded
    page = client_for(member).get(reverse("project_deploy", args=[project.slug])).text
    options = version_options(page)
    assert [value for value, (_, selected) in options.items() if selected] == ["0.9.0"]  # dev, the first
    assert options["0.9.0"][0] == "0.9.0 (deployed in dev, prod)"
    assert options["0.10.0"][0] == "0.10.0 (deployed in test)"
    assert options["0.11.0-rc.1"][0] == "0.11.0-rc.1 (pre-release) (last plan failed)"
    assert (
        'data-defaults="{&quot;dev/local&quot;: &quot;0.9.0&quot;, &quot;test/local&quot;: &quot;0.10.0&quot;' in page
    )
    assert 'data-fallback="0.10.0"' in page and "js/deploy_form.js" in page and "data-pinned" not in page


def test_a_version_asked_for_is_preselected_and_pinned(client_for, lead, member, project, versions):
    finish(project, lead, "0.9.0", env="dev")
    page = client_for(member).get(reverse("project_deploy", args=[project.slug]), {"version": "0.11.0-rc.1"}).text
    options = version_options(page)
    assert [value for value, (_, selected) in options.items() if selected] == ["0.11.0-rc.1"]
    assert 'data-pinned="true"' in page
    unknown = version_options(
        client_for(member).get(reverse("project_deploy", args=[project.slug]), {"version": "7"}).text
    )
    assert [value for value, (_, selected) in unknown.items() if selected] == ["0.9.0"]


def test_the_artifact_page_offers_deploy_this_version_to_who_may_deploy(client_for, member, viewer, project, versions):
    url = reverse("artifact_detail", args=[project.slug, "0.10.0"])
    link = f'href="{reverse("project_deploy", args=[project.slug])}?version=0.10.0"'
    page = client_for(member).get(url).text
    assert "Deploy this version" in page and link in page
    page = client_for(viewer).get(url).text
    assert "Deploy this version" not in page and link not in page


def test_another_team_gets_404_on_all_of_it(client_for, lead, outsider, project, versions):
    finish(project, lead, "0.9.0")
    client = client_for(outsider)
    for url in (
        reverse("project_deploy", args=[project.slug]) + "?version=0.9.0",
        reverse("project_deployments", args=[project.slug]),
        reverse("artifact_detail", args=[project.slug, "0.9.0"]),
    ):
        assert client.get(url).status_code == 404, url
    api = APIClient()
    api.force_authenticate(outsider)
    assert api.get(f"/api/projects/{project.slug}/deployments/").status_code == 404


def test_the_migration_fills_deployed_run_from_history(lead, project, versions):
    import importlib

    migration = importlib.import_module("deployments.migrations.0007_deployment_deployed_run")
    first = finish(project, lead, "0.9.0", env="dev")
    second = finish(project, lead, "0.9.0", env="dev")
    finish(project, lead, "0.10.0", env="dev", operation="plan")
    finish(project, lead, "0.10.0", env="test")
    finish(project, lead, "0.10.0", env="test", operation="destroy")
    Deployment.objects.update(deployed_run=None)
    migration.fill_deployed_run(apps, None)
    by_env = {d.environment.name: d.deployed_run for d in Deployment.objects.select_related("environment")}
    assert by_env == {"dev": second, "test": None} and first != second
