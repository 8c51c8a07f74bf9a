"""The upload's checks are recorded on the artifact (a seal) so a worker need not parse the same bytes
again; anything the seal does not vouch for is checked in full at unpack."""

import io
import zipfile

import pytest
from django.core.files.base import ContentFile

from deployments.artifacts import inspection
from deployments.artifacts.build import build_artifact
from deployments.artifacts.metadata import sha256_hex
from deployments.artifacts.models import Artifact
from deployments.artifacts.services import artifact_upload, version_key
from deployments.runs.workspace import WorkspaceError, artifact_unpack
from tests.artifacts.helpers import rebuild_with_metadata
from tests.deployments.conftest import write_project

pytestmark = pytest.mark.django_db

STEAL = b'output "k" {\n  value = file("/etc/hostname")\n}\n'


@pytest.fixture
def parses(monkeypatch):
    """How many Terraform files the policy parsed (the real parser, counted)."""
    calls = []
    real = inspection.check_terraform_files

    def counted(**kwargs):
        calls.append(sorted(kwargs["files"]))
        return real(**kwargs)

    monkeypatch.setattr(inspection, "check_terraform_files", counted)
    return calls


def _built(project, tmp_path, version="0.1.0") -> bytes:
    source = write_project(tmp_path / f"src-{version}", tables=["summary"])
    return build_artifact(source_dir=source, version=version, project_slug=project.slug, builder="tests").content


def _with_steal(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    entries["infrastructure/dev/steal.tf"] = STEAL
    return rebuild_with_metadata(entries)


def _replace_file(artifact: Artifact, data: bytes) -> None:
    """The stored zip rewritten behind Hangar's back, and its row's SHA-256 made to agree."""
    artifact.file.save("replaced.zip", ContentFile(data), save=False)
    artifact.sha256, artifact.size = sha256_hex(data), len(data)
    artifact.save()


def test_an_upload_records_a_seal_and_unpacking_it_skips_only_the_parse(project, lead, media, tmp_path, parses):
    artifact, _ = artifact_upload(project=project, fileobj=io.BytesIO(_built(project, tmp_path)), user=lead)
    assert len(artifact.checks_seal) == 64
    parsed_at_upload = len(parses)
    assert parsed_at_upload > 0

    manifest = artifact_unpack(artifact=Artifact.objects.get(pk=artifact.pk), dest=tmp_path / "ws")

    assert len(parses) == parsed_at_upload  # nothing parsed again
    assert (tmp_path / "ws" / "infrastructure" / "dev" / "main.tf").is_file()
    assert manifest.archive_sha256 == artifact.sha256 and manifest.environments


def test_a_sealed_artifact_whose_file_was_replaced_is_checked_in_full(project, lead, media, tmp_path, parses):
    data = _built(project, tmp_path)
    artifact, _ = artifact_upload(project=project, fileobj=io.BytesIO(data), user=lead)
    _replace_file(artifact, _with_steal(data))
    parsed_before = len(parses)

    with pytest.raises(WorkspaceError, match=r"no longer passes its checks[\s\S]*steal\.tf"):
        artifact_unpack(artifact=Artifact.objects.get(pk=artifact.pk), dest=tmp_path / "ws")
    assert len(parses) > parsed_before
    assert not (tmp_path / "ws" / "infrastructure").exists()


def test_a_seal_copied_from_another_artifact_vouches_for_nothing(project, lead, media, tmp_path, parses):
    good, _ = artifact_upload(project=project, fileobj=io.BytesIO(_built(project, tmp_path)), user=lead)
    crafted = _with_steal(_built(project, tmp_path, "0.2.0"))
    artifact = Artifact(
        project=project,
        version="0.2.0",
        version_key=version_key("0.2.0"),
        sha256=sha256_hex(crafted),
        size=len(crafted),
        manifest={"environments": ["dev", "test", "prod"]},
        checks_seal=good.checks_seal,
        uploaded_by=lead,
    )
    artifact.file.save("crafted.zip", ContentFile(crafted), save=False)
    artifact.save()

    with pytest.raises(WorkspaceError, match=r"no longer passes its checks[\s\S]*steal\.tf"):
        artifact_unpack(artifact=artifact, dest=tmp_path / "ws")


def test_a_seal_made_under_other_rules_or_another_key_is_not_trusted(
    project, lead, media, tmp_path, parses, monkeypatch, settings
):
    artifact, _ = artifact_upload(project=project, fileobj=io.BytesIO(_built(project, tmp_path)), user=lead)
    parsed = len(parses)

    original = inspection.CHECKS_VERSION
    monkeypatch.setattr(inspection, "CHECKS_VERSION", "changed")
    inspection.checks_rules_version.cache_clear()
    try:
        artifact_unpack(artifact=artifact, dest=tmp_path / "ws-rules")
    finally:
        monkeypatch.setattr(inspection, "CHECKS_VERSION", original)
        inspection.checks_rules_version.cache_clear()
    assert len(parses) > parsed
    parsed = len(parses)

    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789abcdef"
    artifact_unpack(artifact=artifact, dest=tmp_path / "ws-key")
    assert len(parses) > parsed
