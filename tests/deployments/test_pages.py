"""Deploy tab, deployments table, history, run and state pages (no worker)."""

import pytest
from django.urls import reverse

from deployments.runs import services as runs
from deployments.runs.choices import RunStatus
from deployments.runs.logs import RunLog
from deployments.runs.models import Deployment, Run
from deployments.runs.terraform_json import parse_line
from deployments.state.models import StateVersion


@pytest.fixture
def versions(upload, project, lead):
    return [upload(project, lead, v) for v in ("0.9.0", "0.10.0")]


def start(project, user, version="0.10.0", env="dev", operation="apply"):
    return runs.run_start(
        project=project, environment=env, target="local", version=version, operation=operation, user=user
    )


def test_the_deploy_form_offers_versions_newest_first(client_for, member, project, versions):
    page = client_for(member).get(reverse("project_deploy", args=[project.slug])).text
    assert page.index('value="0.10.0"') < page.index('value="0.9.0"')
    assert "DEPLOY" in page and "Plan only" in page


def test_deploy_queues_a_run_and_opens_its_page(client_for, member, project, versions):
    client = client_for(member)
    response = client.post(
        reverse("project_deploy", args=[project.slug]),
        {"environment": "test", "target": "local", "version": "0.9.0", "operation": "apply"},
    )
    run = Run.objects.get()
    assert response.url == reverse("run_detail", args=[run.pk])
    assert (run.deployment.environment.name, run.artifact.version, run.operation, run.requested_by) == (
        "test",
        "0.9.0",
        "apply",
        member,
    )
    assert "Queued" in client.get(response.url).text


def test_plan_only_starts_a_plan(client_for, member, project, versions):
    client_for(member).post(
        reverse("project_deploy", args=[project.slug]),
        {"environment": "dev", "target": "local", "version": "0.9.0", "operation": "plan"},
    )
    assert Run.objects.get().operation == "plan"


def test_a_viewer_sees_the_table_but_no_deploy_button(client_for, viewer, project, versions):
    client = client_for(viewer)
    page = client.get(reverse("project_deploy", args=[project.slug])).text
    assert "only its team's leads and members can deploy" in page and "DEPLOY</button>" not in page
    response = client.post(
        reverse("project_deploy", args=[project.slug]),
        {"environment": "dev", "target": "local", "version": "0.9.0", "operation": "apply"},
        follow=True,
    )
    assert "Only members of" in response.text and not Run.objects.exists()


def test_the_table_has_a_row_per_environment_and_sorts(client_for, lead, project, versions):
    run = start(project, lead, env="prod")
    runs.run_dispatch(deployment_id=run.deployment_id)
    runs.run_finish(run=runs.run_claim(run_id=run.pk, worker="w"), status=RunStatus.SUCCEEDED)
    client = client_for(lead)
    page = client.get(reverse("project_deployments", args=[project.slug])).text
    assert page.count("never deployed") == 2 and "0.10.0" in page and "Succeeded" in page
    assert page.index("Development") < page.index("Production")
    by_version = client.get(reverse("project_deployments", args=[project.slug]), {"sort": "-version"}).text
    assert by_version.index("Production") < by_version.index("Development")
    partial = client.get(reverse("project_deployments", args=[project.slug]), headers={"HX-Request": "true"})
    assert "<html" not in partial.text and "deployments-table" in partial.text


def test_the_table_costs_the_same_queries_however_long_the_history(
    client_for, lead, project, versions, django_assert_max_num_queries
):
    client = client_for(lead)
    url = reverse("project_deployments", args=[project.slug])
    for _ in range(15):
        run = start(project, lead)
        runs.run_dispatch(deployment_id=run.deployment_id)
        runs.run_finish(run=runs.run_claim(run_id=run.pk, worker="w"), status=RunStatus.SUCCEEDED)
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200


def test_history_lists_runs_and_redeploys_an_older_version(client_for, lead, project, versions):
    old = start(project, lead, version="0.9.0")
    runs.run_dispatch(deployment_id=old.deployment_id)
    runs.run_finish(run=runs.run_claim(run_id=old.pk, worker="w"), status=RunStatus.SUCCEEDED)
    client = client_for(lead)
    page = client.get(reverse("deployment_history", args=[project.slug, "dev", "local"])).text
    assert f"#{old.pk}" in page and "Redeploy 0.9.0" in page
    response = client.post(reverse("deployment_redeploy", args=[project.slug, "dev", "local"]), {"version": "0.9.0"})
    rollback = Run.objects.latest("id")
    assert response.url == rollback.get_absolute_url() and rollback.artifact.version == "0.9.0"


def test_the_run_page_says_where_a_queued_run_stands(client_for, lead, project, versions):
    first, second = start(project, lead), start(project, lead)
    runs.run_dispatch(deployment_id=first.deployment_id)
    page = client_for(lead).get(second.get_absolute_url()).text
    assert "1 run ahead, waiting for" in page and f"run #{first.pk}" in page


def test_polling_returns_only_lines_after_the_cursor(client_for, lead, project, versions):
    run = start(project, lead)
    log = RunLog(run)
    for i in range(3):
        log.store(parse_line(f"line {i}"))
    client = client_for(lead)
    response = client.get(reverse("run_poll", args=[run.pk]), {"after": 1}).text
    assert "line 0" not in response and "line 1" in response and "line 2" in response
    assert "?after=3" in response and 'hx-swap-oob="true"' in response


def test_polling_stops_when_the_run_has_ended(client_for, lead, project, versions):
    run = start(project, lead)
    runs.run_cancel(run=run, user=lead)  # not dispatched: cancelled while queued
    response = client_for(lead).get(reverse("run_poll", args=[run.pk]), {"after": 0}).text
    assert 'data-finished="true"' in response and "every 1s" not in response


def test_cancel_from_the_page(client_for, lead, project, versions):
    run = start(project, lead)
    client_for(lead).post(reverse("run_cancel", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


def test_the_state_page_shows_the_lock_and_versions_and_admins_can_unlock(
    client_for, lead, admin_user, project, versions
):
    run = start(project, lead)
    deployment = Deployment.objects.get(pk=run.deployment_id)
    Deployment.objects.filter(pk=deployment.pk).update(
        lock_id="abc", lock_info={"ID": "abc", "Who": "ci@runner", "Operation": "OperationTypeApply"}, lock_run=run
    )
    version = StateVersion.objects.create(
        deployment=deployment, serial=1, lineage="l", sha256="0" * 64, size=2, data=b"{}"
    )
    url = reverse("deployment_state", args=[project.slug, "dev", "local"])
    page = client_for(lead).get(url).text
    assert "ci@runner" in page and f"run #{run.pk}" in page and "Force-unlock" not in page
    download = reverse("state_version_download", args=[project.slug, "dev", "local", version.pk])
    assert client_for(lead).get(download).status_code == 403
    admin = client_for(admin_user)
    assert "Force-unlock" in admin.get(url).text
    assert admin.get(download).content == b"{}"
    admin.post(reverse("deployment_force_unlock", args=[project.slug, "dev", "local"]))
    assert Deployment.objects.get(pk=deployment.pk).lock_id == ""


@pytest.mark.parametrize(
    "name",
    ["project_deploy", "project_deployments", "deployment_history", "deployment_state", "run_detail", "run_poll"],
)
def test_outsiders_get_404(client_for, lead, outsider, project, versions, name):
    run = start(project, lead)
    args = {
        "run_detail": [run.pk],
        "run_poll": [run.pk],
        "deployment_history": [project.slug, "dev", "local"],
        "deployment_state": [project.slug, "dev", "local"],
    }.get(name, [project.slug])
    assert client_for(outsider).get(reverse(name, args=args)).status_code == 404


def test_the_api_starts_runs_and_reads_logs_with_a_cursor(client_for, lead, outsider, project, versions):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(lead)
    response = api.post(
        "/api/runs/",
        {"project": project.slug, "environment": "dev", "target": "local", "version": "0.9.0", "operation": "plan"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "queued" and isinstance(body["id"], int)
    run = Run.objects.get(pk=body["id"])
    log = RunLog(run)
    for i in range(5):
        log.store(parse_line(f"line {i}"))
    page = api.get(f"/api/runs/{run.pk}/logs/", {"after": 2, "limit": 2}).json()
    assert [line["seq"] for line in page["lines"]] == [3, 4] and page["next"] == 4 and not page["finished"]
    assert api.get(f"/api/runs/{run.pk}/").json()["version"] == "0.9.0"
    assert api.get("/api/runs/", {"project": project.slug, "environment": "dev"}).json()["count"] == 1
    bad = api.post("/api/runs/", {"project": project.slug, "environment": "dev", "version": "7.7.7"}, format="json")
    assert bad.status_code == 400 and "no artifact version" in bad.json()["version"][0]
    stranger = APIClient()
    stranger.force_authenticate(outsider)
    assert stranger.get(f"/api/runs/{run.pk}/").status_code == 404
    assert stranger.get(f"/api/runs/{run.pk}/logs/").status_code == 404


def test_the_configuration_tab_shows_each_environments_definition(client_for, member, outsider, project, versions):
    client = client_for(member)
    page = client.get(reverse("project_configuration", args=[project.slug])).text
    assert "0.10.0" in page and "example_reports" in page and "Nothing deployed yet" in page
    older = client.get(reverse("project_configuration", args=[project.slug]), {"version": "0.9.0"}).text
    assert 'value="0.9.0" selected' in older
    assert client_for(outsider).get(reverse("project_configuration", args=[project.slug])).status_code == 404


def test_the_configuration_tab_says_what_to_do_without_artifacts(client_for, member, project):
    page = client_for(member).get(reverse("project_configuration", args=[project.slug])).text
    assert "No artifact yet" in page


def test_the_raw_log_downloads_as_terraform_printed_it(client_for, lead, outsider, project, versions):
    import json

    run = start(project, lead)
    log = RunLog(run)
    log.store(parse_line('{"@level":"info","@message":"Plan: 1 to add","type":"change_summary","changes":{"add":1}}'))
    log.store(parse_line("Terraform has been successfully initialized!"))
    response = client_for(lead).get(reverse("run_log_download", args=[run.pk]))
    assert response["Content-Disposition"] == f'attachment; filename="run-{run.pk}.log"'
    first, second = b"".join(response.streaming_content).decode().splitlines()
    assert json.loads(first)["changes"] == {"add": 1}
    assert second == "Terraform has been successfully initialized!"
    assert client_for(outsider).get(reverse("run_log_download", args=[run.pk])).status_code == 404


def test_home_lists_recent_runs_of_the_users_projects_only(client_for, lead, outsider, project, versions):
    run = start(project, lead, operation="plan")
    assert f'href="/runs/{run.pk}/"' in client_for(lead).get("/").text
    assert f'href="/runs/{run.pk}/"' not in client_for(outsider).get("/").text


def test_home_has_a_plain_title(client_for, lead):
    assert "<title>Home · Hangar</title>" in client_for(lead).get("/").text
