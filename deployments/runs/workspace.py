"""A run's private workspace: the artifact unpacked and verified, nothing else."""

import hashlib
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

from django.conf import settings

from deployments.artifacts.inspection import ArtifactManifest, ArtifactRejected, inspect_upload
from deployments.artifacts.models import Artifact
from deployments.dsl.targets import deployer_account, get_target
from onboarding.reserved import platform_project_slug


class WorkspaceError(Exception):
    pass


def workspace_create(*, run_id: int) -> Path:
    root = Path(settings.RUN_WORKSPACE_DIR)
    try:
        root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f"run-{run_id}-", dir=root))
    except OSError as error:
        raise WorkspaceError(
            f"The worker could not create this run's workspace under RUN_WORKSPACE_DIR ({root}): {error}. "
            "Nothing was changed; an operator must fix the directory (space, permissions), then deploy again."
        ) from None


def workspace_remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def artifact_unpack(*, artifact: Artifact, dest: Path) -> ArtifactManifest:
    """Unpack exactly what was uploaded: the zip must still hash to the stored
    SHA-256, pass the upload checks again, and every file must match its checksum.

    The Terraform parse is skipped only when the artifact's seal says these very bytes passed
    today's rules at upload (inspection.checks_seal); anything else is checked in full."""
    with artifact.file.open("rb") as fileobj:
        try:
            manifest = inspect_upload(
                fileobj,
                expected_project_slug=artifact.project.slug,
                platform_project_slug=platform_project_slug(),
                seal=artifact.checks_seal,
            )
        except ArtifactRejected as error:
            raise WorkspaceError(f"Artifact {artifact.version} no longer passes its checks: {error}") from None
        if manifest.archive_sha256 != artifact.sha256:
            raise WorkspaceError(
                f"Artifact {artifact.version} changed since it was uploaded (SHA-256 {manifest.archive_sha256}, "
                f"expected {artifact.sha256}); refusing to run it."
            )
        fileobj.seek(0)
        with zipfile.ZipFile(fileobj) as archive:
            for name, expected in manifest.files.items():
                target = dest / name  # names were checked: relative, no "..", no links
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with archive.open(name) as source, open(target, "wb") as out:
                    while chunk := source.read(64 * 1024):
                        digest.update(chunk)
                        out.write(chunk)
                if digest.hexdigest() != expected:
                    raise WorkspaceError(f"{name} does not match its checksum in metadata.yaml; refusing to run it.")
    return manifest


# What Hangar writes into a sandbox's folder. Terraform merges `*_override.tf` files into the other
# files' blocks; an artifact may hold none (deployments.dsl.terraform_guards), so this one is Hangar's.
SANDBOX_OVERRIDE = "hangar_sandbox_override.tf"
_TABLE_MODULE = re.compile(r'^module\s+"(table_[A-Za-z0-9_]+--[A-Za-z0-9_]+)"', re.MULTILINE)


def environment_workdir(root: Path, environment, target: str = "local") -> Path:
    """The folder Terraform runs in for `environment` (an onboarding Environment) in an unpacked artifact
    at `root`: infrastructure/<its definition>/. A sandbox deploys its base environment's definition, so
    Hangar writes an override there that points `local.project_id` at the sandbox's own cloud project and,
    in a DSL definition, turns its tables' deletion protection off (a sandbox's data lives as long as the
    sandbox). On a target whose provider acts as the project's deployer account (gcp), the provider block
    is pointed at the sandbox's project and its deployer account too. The folder may be missing; the
    caller says so."""
    workdir = root / "infrastructure" / environment.definition
    if environment.is_sandbox and workdir.is_dir():
        (workdir / SANDBOX_OVERRIDE).write_text(sandbox_override(workdir, environment, target))
    return workdir


def sandbox_override(workdir: Path, environment, target: str = "local") -> str:
    lines = [
        f"# Written by Hangar for sandbox {environment.name}: the {environment.base_name} definition, deployed",
        f"# into the sandbox's own cloud project {environment.gcp_project_id}.",
        "locals {",
        f'  project_id = "{environment.gcp_project_id}"',
        "}",
    ]
    resolved = get_target(target)
    if resolved.impersonates_deployer:
        lines += [
            "",
            f'provider "{resolved.provider_name}" {{',
            f'  project                     = "{environment.gcp_project_id}"',
            f'  impersonate_service_account = "{deployer_account(environment.gcp_project_id)}"',
            "}",
        ]
    if (workdir / "main.yaml").is_file():  # compiled from the DSL: its table modules take deletion_protection
        labels = sorted(
            {
                label
                for path in sorted(workdir.glob("*.tf"))
                if not path.is_symlink() and path.name != SANDBOX_OVERRIDE
                for label in _TABLE_MODULE.findall(path.read_text(errors="replace"))
            }
        )
        for label in labels:
            lines += ["", f'module "{label}" {{', "  deletion_protection = false", "}"]
    return "\n".join(lines) + "\n"
