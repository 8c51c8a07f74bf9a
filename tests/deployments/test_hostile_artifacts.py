"""Hostile artifacts through a real worker, real Terraform in the sandbox and the local cloud service.

Every attack fails with a clear message, and the run's outputs and log hold no secret. The
attacks that an upload check can see are refused there (tests/artifacts/test_guards.py); what no
static check can see is stopped at run time, and that is what these runs show. The sandbox alone
is tested below the checks in tests/terraform/test_sandbox.py."""

import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile

from deployments.artifacts import build_artifact
from deployments.artifacts.metadata import sha256_hex
from deployments.artifacts.models import Artifact
from deployments.artifacts.services import artifact_upload, version_key
from deployments.runs.choices import RunStatus
from deployments.runs.services import run_start
from tests.artifacts.helpers import rebuild_with_metadata
from tests.deployments.conftest import write_project
from tests.deployments.helpers import localcloud_resources, wait_finished

pytestmark = [pytest.mark.worker, pytest.mark.terraform, pytest.mark.django_db(transaction=True)]

VICTIM = "sc-2-victim-prod"
SECRET = "worker-only-secret-value"
# A plain-Terraform environment (allowed for advanced users) whose second dataset lands in another
# team's project. The victim's id is computed, so no check of the configuration can see it.
COMPUTED_ELSEWHERE = """
module "dataset_own" {
  source     = "../../modules/local/dataset"
  project_id = "sc-123-example-dev"
  dataset_id = "own"
  team       = "data-engine"
}

locals {
  elsewhere = join("-", ["sc", "2", "victim", "prod"])
}

module "dataset_loot" {
  source     = "../../modules/local/dataset"
  project_id = local.elsewhere
  dataset_id = "loot"
  team       = "data-engine"
}
"""


def _upload_with(project, user, tmp_path, version: str, files: dict[str, str | None]):
    """The test project with some files replaced (None removes one)."""
    source = write_project(tmp_path / f"src-{version}", tables=["summary"])
    for name, text in files.items():
        if text is None:
            (source / name).unlink()
        else:
            (source / name).write_text(text)
    built = build_artifact(source_dir=source, version=version, project_slug=project.slug, builder="tests")
    artifact, _ = artifact_upload(project=project, fileobj=io.BytesIO(built.content), user=user)
    return artifact


def _log(run) -> str:
    return "\n".join(run.log_lines.order_by("seq").values_list("message", flat=True))


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_a_computed_project_id_of_another_team_is_refused_by_the_cloud(
    start_worker, project, lead, localcloud, media, tmp_path
):
    start_worker()
    _upload_with(
        project,
        lead,
        tmp_path,
        "0.1.0",
        {"infrastructure/dev/main.yaml": None, "infrastructure/dev/main.tf": COMPUTED_ELSEWHERE},
    )
    run = wait_finished(
        run_start(project=project, environment="dev", target="local", version="0.1.0", operation="apply", user=lead)
    )
    assert run.status == RunStatus.FAILED
    denied = f"PERMISSION_DENIED: run {run.pk} may change sc-123-example-dev only, not {VICTIM}"
    assert denied in _flat(run.error) or denied in _flat(_log(run))
    assert "Terraform runs in a sandbox" in _log(run) and run.isolated is True
    assert localcloud_resources(localcloud, VICTIM) == []


def test_an_artifact_that_skipped_the_upload_checks_does_not_run(
    start_worker, project, lead, localcloud, media, tmp_path, settings
):
    """Stored behind Hangar's back (say, by a bug or a restored backup): the worker checks it again."""
    secret_file = tmp_path / "secret-key"
    secret_file.write_text(SECRET)
    source = write_project(tmp_path / "src", tables=["summary"])
    built = build_artifact(source_dir=source, version="0.1.0", project_slug=project.slug, builder="tests")
    with zipfile.ZipFile(io.BytesIO(built.content)) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    entries["infrastructure/dev/steal.tf"] = f'output "k" {{\n  value = file("{secret_file}")\n}}\n'.encode()
    data = rebuild_with_metadata(entries)
    artifact = Artifact(
        project=project,
        version="0.1.0",
        version_key=version_key("0.1.0"),
        sha256=sha256_hex(data),
        size=len(data),
        manifest={"environments": ["dev", "test", "prod"]},
        uploaded_by=lead,
    )
    artifact.file.save("crafted.zip", ContentFile(data), save=False)
    artifact.save()

    start_worker()
    run = wait_finished(
        run_start(project=project, environment="dev", target="local", version="0.1.0", operation="apply", user=lead)
    )
    assert run.status == RunStatus.FAILED
    assert "no longer passes its checks" in run.error and "steal.tf" in run.error
    assert SECRET not in run.error + _log(run) + json.dumps(run.outputs)
    assert localcloud_resources(localcloud, "sc-123-example-dev") == []


def test_an_uploaded_artifact_whose_file_was_replaced_is_checked_in_full_and_does_not_run(
    start_worker, project, lead, localcloud, media, tmp_path
):
    """Its upload seal vouches for the bytes that were checked, not for these: the worker parses them again."""
    secret_file = tmp_path / "secret-key"
    secret_file.write_text(SECRET)
    artifact = _upload_with(project, lead, tmp_path, "0.1.0", {})
    assert artifact.checks_seal
    with zipfile.ZipFile(artifact.file.open("rb")) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    artifact.file.close()
    entries["infrastructure/dev/steal.tf"] = f'output "k" {{\n  value = file("{secret_file}")\n}}\n'.encode()
    data = rebuild_with_metadata(entries)
    artifact.file.save("replaced.zip", ContentFile(data), save=False)
    artifact.sha256, artifact.size = sha256_hex(data), len(data)
    artifact.save()  # the seal is left as the upload wrote it

    start_worker()
    run = wait_finished(
        run_start(project=project, environment="dev", target="local", version="0.1.0", operation="apply", user=lead)
    )
    assert run.status == RunStatus.FAILED
    assert "no longer passes its checks" in run.error and "steal.tf" in run.error
    assert SECRET not in run.error + _log(run) + json.dumps(run.outputs)
    assert localcloud_resources(localcloud, "sc-123-example-dev") == []


def test_without_a_sandbox_runs_refuse_to_start_and_say_what_to_install(
    start_worker, worker_env, upload, project, lead, localcloud
):
    worker_env["RUN_SANDBOX_BWRAP"] = "/nonexistent/bwrap"
    start_worker()
    upload(project, lead, "0.1.0")
    run = wait_finished(
        run_start(project=project, environment="dev", target="local", version="0.1.0", operation="apply", user=lead)
    )
    assert run.status == RunStatus.FAILED
    assert "cannot be sandboxed" in run.error and "Install bubblewrap" in run.error
    assert localcloud_resources(localcloud, "sc-123-example-dev") == []


def test_with_the_sandbox_off_the_run_says_it_is_not_isolated(
    start_worker, worker_env, upload, project, lead, localcloud, client, admin_user
):
    worker_env["RUN_SANDBOX"] = "off"
    start_worker()
    upload(project, lead, "0.1.0")
    run = wait_finished(
        run_start(project=project, environment="dev", target="local", version="0.1.0", operation="apply", user=lead)
    )
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert "this run is NOT isolated" in _log(run) and run.isolated is False
    client.force_login(lead)
    assert "Not isolated." in client.get(run.get_absolute_url()).content.decode()
    client.force_login(admin_user)
    assert "1 run of the last 7 days ran without a sandbox" in client.get("/operations/").content.decode()
