"""Storing uploaded artifacts: checked first, immutable after."""

import hashlib
import json
from dataclasses import asdict
from typing import BinaryIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from deployments.artifacts.inspection import (
    ArtifactManifest,
    ArtifactRejected,
    UploadLimits,
    checks_seal,
    inspect_upload,
)
from deployments.artifacts.models import Artifact
from onboarding.access import can_deploy
from onboarding.models import Project
from onboarding.reserved import platform_project_slug
from portal.audit import audit_record

# Room for the multipart envelope around the zip itself.
MULTIPART_MARGIN = 64 * 1024


def upload_size_problem(content_length: str | None) -> str | None:
    """Why a request is too large to be an artifact upload, judged from its headers alone,
    before Django parses (and spools) its files. A proxy's body limit should stop it earlier."""
    limit = UploadLimits().max_compressed_bytes
    try:
        size = int(content_length or 0)
    except ValueError:
        return None
    if size > limit + MULTIPART_MARGIN:
        return f"the upload is {size} bytes; an artifact may have at most {limit} bytes"
    return None


def version_key(version: str) -> str:
    """Sortable text for a semantic version: numeric parts padded; a release after its pre-releases."""
    core, _, pre = version.partition("-")
    parts = [int(part) for part in core.split(".")]
    return ".".join(f"{part:08d}" for part in parts) + (f"-{pre}" if pre else "~")


def _same_content(existing: Artifact, manifest: ArtifactManifest) -> bool:
    return existing.sha256 == manifest.archive_sha256 or (
        existing.manifest.get("content_sha256") == manifest.content_sha256
    )


def _refuse_reuse(existing: Artifact) -> ValidationError:
    return ValidationError(
        {
            "file": (
                f"Version {existing.version} of {existing.project} exists already with different content "
                f"(SHA-256 {existing.sha256[:12]}…). Versions are immutable: build this change as a new version."
            )
        }
    )


def artifact_upload(*, project: Project, fileobj: BinaryIO, user) -> tuple[Artifact, bool]:
    """Check and store an uploaded zip. Returns (artifact, created); an identical
    re-upload returns the stored one with created=False and stores nothing."""
    if not can_deploy(user, project):
        raise PermissionDenied(f"Only members of {project.team} can upload artifacts to {project}.")
    platform_slug = platform_project_slug()
    try:
        manifest = inspect_upload(fileobj, expected_project_slug=project.slug, platform_project_slug=platform_slug)
    except ArtifactRejected as error:
        raise ValidationError({"file": error.problems}) from None
    existing = Artifact.objects.filter(project=project, version=manifest.version).first()
    if existing is not None:
        if _same_content(existing, manifest):
            return existing, False
        raise _refuse_reuse(existing)

    # The content hash in the name keeps two racing uploads from overwriting each other's file.
    name = f"artifacts/{project.slug}/{project.slug}-{manifest.version}-{manifest.archive_sha256[:12]}.zip"
    fileobj.seek(0)
    stored_name = default_storage.save(name, File(fileobj))
    try:
        with transaction.atomic():
            artifact = Artifact.objects.create(
                project=project,
                version=manifest.version,
                version_key=version_key(manifest.version),
                sha256=manifest.archive_sha256,
                size=default_storage.size(stored_name),
                file=stored_name,
                manifest=_manifest_json(manifest),
                checks_seal=checks_seal(
                    archive_sha256=manifest.archive_sha256,
                    entries_sha256=manifest.entries_sha256,
                    expected_project_slug=project.slug,
                    platform_project_slug=platform_slug,
                ),
                uploaded_by=user,
            )
            audit_record(actor=user, action="artifact.upload", obj=artifact, sha256=artifact.sha256)
    except IntegrityError:
        # Another upload of this version won the race: keep its file, drop ours.
        default_storage.delete(stored_name)
        existing = Artifact.objects.get(project=project, version=manifest.version)
        if _same_content(existing, manifest):
            return existing, False
        raise _refuse_reuse(existing) from None
    except BaseException:
        default_storage.delete(stored_name)
        raise
    return artifact, True


def _manifest_json(manifest: ArtifactManifest) -> dict:
    data = asdict(manifest)
    data["environments"] = sorted(manifest.environments)
    data["environment_kinds"] = manifest.environments
    return json.loads(json.dumps(data, default=str))  # dates in metadata.yaml become text


def artifact_read_file(*, artifact: Artifact, path: str, limit: int = 2_000_000) -> bytes:
    """One file of a stored artifact, by its exact name in the manifest."""
    import zipfile

    if path not in artifact.manifest.get("files", {}):
        raise KeyError(path)
    with artifact.file.open("rb") as fileobj, zipfile.ZipFile(fileobj) as archive, archive.open(path) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path} is larger than {limit} bytes; download the artifact to read it.")
    if hashlib.sha256(data).hexdigest() != artifact.manifest["files"][path]:
        raise ValueError(f"{path} does not match its checksum; the stored artifact is damaged.")
    return data
