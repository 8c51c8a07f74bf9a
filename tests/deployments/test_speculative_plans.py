"""What would this version change? Speculative plans of an upload, through a real worker and Terraform:
planned against each environment that runs something, never applied, holding no slot, with credentials
that can only read."""

import base64
import io

import pytest
from rest_framework.test import APIClient

from deployments.artifacts.build import build_artifact
from deployments.plans import readonly, speculative
from deployments.plans.models import SpeculativePlan
from deployments.runs.choices import RunStatus
from deployments.runs.models import Deployment
from deployments.runs.services import run_start
from tests.deployments.conftest import wait_for, write_project
from tests.deployments.helpers import localcloud_resources, names_by_type, wait_finished

pytestmark = [pytest.mark.worker, pytest.mark.terraform, pytest.mark.django_db(transaction=True)]


def api_upload(api, project, tmp_path, version, tables):
    source = write_project(tmp_path / f"src-{version}", tables=tables, deletion_protection=False)
    built = build_artifact(source_dir=source, version=version, project_slug=project.slug, builder="tests")
    upload = io.BytesIO(built.content)
    upload.name = f"{version}.zip"
    response = api.post(f"/api/projects/{project.slug}/artifacts/", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


def finished(version) -> list[SpeculativePlan]:
    plans = list(SpeculativePlan.objects.filter(artifact__version=version))
    return plans if plans and all(plan.is_finished for plan in plans) else []


def test_an_upload_is_planned_against_what_runs_and_changes_nothing(
    start_worker, upload, project, lead, member, outsider, localcloud, tmp_path, client_for
):
    start_worker()
    upload(project, lead, "0.1.0", tables=["summary", "details"], deletion_protection=False)
    deployed = wait_finished(run_start(project=project, environment="dev", target="local", version="0.1.0",
                                       operation="apply", user=lead))  # fmt: skip
    assert deployed.status == RunStatus.SUCCEEDED, deployed.error

    api = APIClient()
    api.force_authenticate(member)
    api_upload(api, project, tmp_path, "0.2.0", ["summary", "weekly"])  # drops `details`, adds `weekly`
    [plan] = wait_for(lambda: finished("0.2.0"), timeout=240, message="the speculative plan of 0.2.0")
    assert plan.status == "succeeded", plan.error
    assert plan.deployment.environment.name == "dev"  # test and prod run nothing: not planned
    assert (plan.to_add, plan.to_change, plan.to_destroy, plan.destroys) == (1, 0, 1, True)
    assert plan.credential == ""  # its read-only credential ended with it
    # Never applied, and no slot or state lock taken.
    tables = names_by_type(localcloud_resources(localcloud, "sc-123-example-dev"))["table"]
    assert tables == {"example_reports.summary", "example_reports.details"}
    deployment = Deployment.objects.get(pk=plan.deployment_id)
    assert deployment.active_run_id is None and not deployment.lock_id
    assert deployment.state_versions.count() == 2  # the seed and the apply: the plan wrote nothing

    [listed] = [a for a in api.get(f"/api/projects/{project.slug}/artifacts/").json()["results"]
                if a["version"] == "0.2.0"]  # fmt: skip
    assert listed["speculative_plans"] == [{"id": plan.pk, "environment": "dev", "target": "local",
        "status": "succeeded", "add": 1, "change": 0, "destroy": 1, "destroys": True, "error": ""}]  # fmt: skip
    deploy_tab = client_for(member).get(f"/projects/{project.slug}/deploy/").text
    assert "What would 0.2.0 change?" in deploy_tab and "destroys or replaces something" in deploy_tab
    page = client_for(member).get(f"/plans/speculative/{plan.pk}/").text
    assert "What this plan changes" in page and "example_reports.weekly" in page
    assert client_for(outsider).get(f"/plans/speculative/{plan.pk}/").status_code == 404


def test_a_speculative_plans_credentials_only_read(upload, project, lead, live_server):
    """What a hostile artifact's speculative plan could try with its state credentials: read, never write."""
    upload(project, lead, "0.1.0")
    deployment = Deployment.objects.create(environment=project.environments.get(name="dev"), target="local")
    plan = SpeculativePlan.objects.create(
        artifact=project.artifacts.get(), deployment=deployment, status="running",
        credential=readonly.digest("secret"),
    )  # fmt: skip
    import urllib.error
    import urllib.request

    def call(method: str, password: str = "secret", deployment_id: int = deployment.pk) -> int:
        token = base64.b64encode(f"plan-{plan.pk}:{password}".encode()).decode()
        request = urllib.request.Request(f"{live_server.url}/state/{deployment_id}/", method=method, data=b"{}" if method != "GET" else None,
                                         headers={"Authorization": f"Basic {token}"})  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    assert call("GET") == 204  # no state yet, and allowed to ask
    assert [call(method) for method in ("POST", "LOCK", "UNLOCK")] == [403, 403, 403]
    assert call("GET", password="guess") == 403
    assert call("GET", deployment_id=deployment.pk + 1000) == 403
    SpeculativePlan.objects.filter(pk=plan.pk).update(status="succeeded")
    assert call("GET") == 403  # only while it plans
    assert deployment.state_versions.count() == 0 and not Deployment.objects.get(pk=deployment.pk).lock_id


def test_speculative_plans_can_be_turned_off(upload, project, lead, settings):
    settings.SPECULATIVE_PLANS = False
    artifact = upload(project, lead, "0.1.0")
    Deployment.objects.create(environment=project.environments.get(name="dev"), target="local",
                              deployed_artifact=artifact)  # fmt: skip
    assert speculative.speculative_plans_start(artifact=artifact) == []
    settings.SPECULATIVE_PLANS = True
    assert [p.deployment.environment.name for p in speculative.speculative_plans_start(artifact=artifact)] == ["dev"]
    assert speculative.speculative_plans_start(artifact=artifact) == []  # once per version and environment
