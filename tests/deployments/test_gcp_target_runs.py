"""Runs on the gcp target: offered only when HANGAR_TARGETS has it and its provider is in the mirror."""

import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from deployments.artifacts import build_artifact
from deployments.artifacts.services import artifact_upload
from deployments.runs import targets as run_targets
from deployments.runs import toolchain
from deployments.runs.models import Run
from localcloud.packaging import host_target
from tests.deployments.conftest import write_project

PROVIDER = "registry.terraform.io/hashicorp/google"


@pytest.fixture
def mirror(settings, tmp_path):
    settings.TERRAFORM_MIRROR_DIR = tmp_path / "mirror"
    settings.TERRAFORM_DIR = tmp_path / "terraform"
    return settings.TERRAFORM_MIRROR_DIR


def fetched_mirror(root, version="6.50.0"):
    """What `terraform providers mirror DIR` leaves: the packed archive and its JSON index files."""
    folder = root / PROVIDER
    folder.mkdir(parents=True)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(f"terraform-provider-google_v{version}_x5", b"\x7fELF provider")
    (folder / f"terraform-provider-google_{version}_{host_target()}.zip").write_bytes(archive.getvalue())
    (folder / "index.json").write_text(json.dumps({"versions": {version: {}}}))
    (folder / f"{version}.json").write_text('{"archives": {}}')
    return root


@pytest.fixture
def gcp_version(media, tmp_path, project, lead):
    source = write_project(tmp_path / "src-gcp", tables=["summary"])
    built = build_artifact(source_dir=source, version="2.0.0", project_slug=project.slug, target="gcp")
    artifact, _ = artifact_upload(project=project, fileobj=io.BytesIO(built.content), user=lead)
    return artifact


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def body(project, version="2.0.0"):
    return {"project": project.slug, "environment": "dev", "target": "gcp", "version": version, "operation": "plan"}


def test_gcp_is_missing_until_enabled_and_its_provider_is_in_the_mirror(settings, mirror, tmp_path):
    settings.HANGAR_TARGETS = ["local"]
    problems = run_targets.missing("gcp")
    assert len(problems) == 2
    assert "not enabled here: HANGAR_TARGETS is local; add gcp to it" in problems[0]
    assert f"hashicorp/google 6.50.0 ({host_target()}) is not in the offline mirror" in problems[1]
    assert "setup_terraform --add-providers DIR" in problems[1]
    assert run_targets.available() == ["local"]
    settings.HANGAR_TARGETS = ["local", "gcp"]
    assert run_targets.missing("gcp") == [problems[1]]
    toolchain.add_providers(fetched_mirror(tmp_path / "fetched"))
    assert run_targets.missing("gcp") == [] and run_targets.available() == ["local", "gcp"]


def test_the_api_answers_400_with_what_is_missing(settings, mirror, project, lead, gcp_version, tmp_path):
    settings.HANGAR_TARGETS = ["local"]
    response = api_as(lead).post("/api/runs/", body(project), format="json")
    assert response.status_code == 400
    (message,) = response.json()["target"]
    assert message.startswith("Target 'gcp' is not available here: target 'gcp' is not enabled here")
    assert "is not in the offline mirror" in message
    settings.HANGAR_TARGETS = ["local", "gcp"]
    toolchain.add_providers(fetched_mirror(tmp_path / "fetched"))
    response = api_as(lead).post("/api/runs/", body(project), format="json")
    assert response.status_code == 201, response.content
    assert Run.objects.get().deployment.target == "gcp"


def test_an_artifact_runs_only_on_the_target_it_was_built_for(
    settings, mirror, project, lead, upload, gcp_version, tmp_path
):
    settings.HANGAR_TARGETS = ["local", "gcp"]
    toolchain.add_providers(fetched_mirror(tmp_path / "fetched"))
    upload(project, lead, "0.1.0")  # built for local
    response = api_as(lead).post("/api/runs/", body(project, "0.1.0"), format="json")
    assert response.status_code == 400
    assert response.json()["version"] == [
        "Version 0.1.0 was built for target 'local', not 'gcp'; build it with --target gcp."
    ]


def test_the_deploy_form_offers_gcp_only_when_it_is_available(
    settings, mirror, client_for, member, project, gcp_version, tmp_path
):
    settings.HANGAR_TARGETS = ["local", "gcp"]
    page = client_for(member).get(reverse("project_deploy", args=[project.slug])).text
    assert 'value="local"' in page and 'value="gcp"' not in page  # no provider yet
    response = client_for(member).post(
        reverse("project_deploy", args=[project.slug]),
        {"environment": "dev", "target": "gcp", "version": "2.0.0", "operation": "plan"},
    )
    assert not Run.objects.exists() and response.status_code in (200, 302)
    toolchain.add_providers(fetched_mirror(tmp_path / "fetched"))
    page = client_for(member).get(reverse("project_deploy", args=[project.slug])).text
    assert 'value="gcp"' in page


def test_setup_terraform_add_providers_copies_a_providers_mirror_folder_and_refuses_anything_else(
    settings, mirror, tmp_path, capsys
):
    settings.HANGAR_TARGETS = ["local", "gcp"]
    fetched = fetched_mirror(tmp_path / "fetched")
    call_command("setup_terraform", "--add-providers", str(fetched))
    out = capsys.readouterr().out
    assert f"added {PROVIDER}/terraform-provider-google_6.50.0_{host_target()}.zip" in out
    assert "target gcp: available" in out
    assert (mirror / PROVIDER / f"terraform-provider-google_6.50.0_{host_target()}.zip").is_file()
    stray = tmp_path / "stray"
    (stray / "notes").mkdir(parents=True)
    (stray / "notes" / "readme.txt").write_text("hi")
    with pytest.raises(CommandError, match="not a provider of a `terraform providers mirror` folder"):
        call_command("setup_terraform", "--add-providers", str(stray))


def test_a_gcp_sandbox_points_the_provider_at_its_own_project_and_deployer_account(tmp_path):
    from types import SimpleNamespace

    from deployments.runs.workspace import sandbox_override

    environment = SimpleNamespace(name="sbx-7", base_name="dev", gcp_project_id="sc-123-example-sbx7")
    gcp = sandbox_override(tmp_path, environment, "gcp")
    assert 'provider "google" {' in gcp
    assert 'impersonate_service_account = "hangar-deployer@sc-123-example-sbx7.iam.gserviceaccount.com"' in gcp
    assert "provider" not in sandbox_override(tmp_path, environment)  # local: unchanged
