"""A run's private workspace: the artifact unpacked and verified, nothing else."""

import hashlib
import shutil
import tempfile
import zipfile
from pathlib import Path

from django.conf import settings

from deployments.artifacts.inspection import ArtifactManifest, ArtifactRejected, inspect_upload
from deployments.artifacts.models import Artifact
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
