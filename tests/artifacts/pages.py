"""Helpers for the artifact upload and page tests: builds, hostile variants, uploads."""

import io
import zipfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from deployments.artifacts import build_artifact
from tests.artifacts.helpers import zip_of
from tests.deployments.conftest import write_project


def build(tmp_path: Path, version: str, *, tables=("summary",), description="Reports", extra=None, **options) -> bytes:
    """The zip of a small sc-123-example repository at `version`; `extra` adds bq_schemas files."""
    source = write_project(
        tmp_path / f"src-{version}-{len(tables)}-{description}", tables=list(tables), description=description
    )
    for name, data in (extra or {}).items():
        (source / "infrastructure" / "bq_schemas" / name).write_bytes(data)
    return build_artifact(
        source_dir=source, version=version, project_slug="sc-123-example", builder="tests", **options
    ).content


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def with_entry(data: bytes, entry, content: bytes = b"x") -> bytes:
    return zip_of([*entries(data).items(), (entry, content)])


def stored_files(media: Path) -> set[Path]:
    return {path for path in Path(media).rglob("*") if path.is_file()} if Path(media).exists() else set()


def api_upload(client, project, data: bytes, name: str = "artifact.zip"):
    return client.post(
        f"/api/projects/{project.slug}/artifacts/", {"file": SimpleUploadedFile(name, data, "application/zip")}
    )


def page_upload(client, project, data: bytes, name: str = "artifact.zip", **extra):
    return client.post(
        reverse("project_artifacts", args=[project.slug]),
        {"file": SimpleUploadedFile(name, data, "application/zip")},
        **extra,
    )
