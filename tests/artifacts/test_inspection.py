"""Hostile uploads are refused before anything reads them, each with the reason."""

import io
import zipfile

import pytest

from deployments.artifacts import ArtifactRejected, UploadLimits, build_artifact, inspect_upload
from tests.artifacts.helpers import BUILT_AT, rebuild_with_metadata, zip_of


@pytest.fixture
def artifact(example_project, contract_modules):
    return build_artifact(
        source_dir=example_project, version="0.1.87", modules_dir=contract_modules, built_at=BUILT_AT, builder="ci"
    )


def refusal(data: bytes, project="sc-123-example", limits=None) -> list[str]:
    with pytest.raises(ArtifactRejected) as caught:
        inspect_upload(io.BytesIO(data), expected_project_slug=project, limits=limits)
    return caught.value.problems


def with_extra(artifact, entry, data=b"x") -> bytes:
    return zip_of([*artifact.files.items(), (entry, data)])


def test_a_good_artifact_is_described(artifact):
    manifest = inspect_upload(io.BytesIO(artifact.content), expected_project_slug="sc-123-example")
    assert manifest.project_slug == "sc-123-example" and manifest.environments == {
        "dev": "dsl",
        "prod": "dsl",
        "test": "dsl",
    }
    assert "metadata.yaml" not in manifest.files and len(manifest.content_sha256) == 64


def test_path_traversal(artifact):
    assert refusal(with_extra(artifact, "infrastructure/../../etc/cron.d/x")) == [
        "entry 'infrastructure/../../etc/cron.d/x': '..' is not allowed in paths"
    ]


def test_absolute_path(artifact):
    info = zipfile.ZipInfo("x")
    info.filename = "/etc/passwd"  # ZipInfo strips a leading '/', so set it after construction as an attacker would
    assert refusal(with_extra(artifact, info)) == ["entry '/etc/passwd': absolute paths are not allowed"]


def test_symlink(artifact):
    info = zipfile.ZipInfo("infrastructure/bq_schemas/link.json")
    info.create_system = 3
    info.external_attr = (0o120777) << 16
    assert refusal(with_extra(artifact, info, b"/etc/passwd")) == [
        "entry 'infrastructure/bq_schemas/link.json' is a symbolic link; links are not allowed"
    ]


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_duplicate_names(artifact):
    data = zip_of([*artifact.files.items(), ("hangar.yaml", b"service_control_id: 9\nname: other\nteam: t\n")])
    assert refusal(data) == ["entry 'hangar.yaml' appears twice (names must be unique, ignoring case)"]


def test_zip_bomb_is_refused_from_its_declared_sizes(artifact):
    bomb = with_extra(artifact, "infrastructure/bq_schemas/bomb.json", b"0" * 30_000_000)
    problem = refusal(bomb)[0]
    assert problem.startswith("entry 'infrastructure/bq_schemas/bomb.json' expands to 30000000 bytes; at most")


def test_high_compression_ratio_is_refused(artifact):
    problem = refusal(with_extra(artifact, "infrastructure/bq_schemas/zeros.json", b"0" * 5_000_000))[0]
    assert "expands" in problem and "(zip bomb?)" in problem


def test_lying_headers_are_caught_while_streaming(artifact):
    data = bytearray(with_extra(artifact, "infrastructure/bq_schemas/liar.json", b"A" * 50_000))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("infrastructure/bq_schemas/liar.json")
    # Shrink the declared size in the central directory to 100 bytes: the stream must not trust it.
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"infrastructure/bq_schemas/liar.json") + 1)
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    problems = refusal(bytes(data))
    assert (
        problems
        == [
            "entry 'infrastructure/bq_schemas/liar.json' is corrupt (Bad CRC-32 for file "
            "'infrastructure/bq_schemas/liar.json')"
        ]
        or "beyond its declared size" in problems[0]
    )
    assert info.file_size == 50_000


def test_limits_on_file_count_and_compressed_size(artifact):
    assert refusal(artifact.content, limits=UploadLimits(max_files=3))[0].startswith(
        "the zip has 29 entries; at most 3"
    )
    assert refusal(artifact.content, limits=UploadLimits(max_compressed_bytes=100))[0].startswith("the zip is ")


def test_checksum_mismatch(artifact):
    files = dict(artifact.files)
    files["infrastructure/prod/main.tf"] += b"\n# changed after the build\n"
    assert refusal(zip_of(list(files.items()))) == [
        "'infrastructure/prod/main.tf' does not match its checksum in metadata.yaml (changed after the build?)"
    ]


def test_file_missing_from_metadata(artifact):
    assert "'infrastructure/bq_schemas/extra.json' is in the zip but not in metadata.yaml" in refusal(
        with_extra(artifact, "infrastructure/bq_schemas/extra.json")
    )


def test_wrong_project(artifact):
    assert refusal(artifact.content, project="sc-456-other") == [
        "this artifact belongs to project 'sc-123-example' (hangar.yaml), not 'sc-456-other'"
    ]


def test_tampered_terraform_is_held_to_the_policy_even_with_consistent_checksums(artifact):
    files = dict(artifact.files)
    files["infrastructure/prod/evil.tf"] = (
        b'resource "x" "y" {\n  provisioner "local-exec" {\n    command = "id"\n  }\n}\n'
    )
    files["infrastructure/dev/providers.tf"] = b'provider "localcloud" {\n  root = "/"\n}\n'
    problems = refusal(rebuild_with_metadata(files))
    assert problems == [
        "'infrastructure/dev/providers.tf' differs from what Hangar writes for target 'local'",
        "infrastructure/prod/evil.tf:2:3: provisioners are not allowed: they run commands on the worker; "
        "use resources of the provider",
    ]


def test_files_outside_the_layout(artifact):
    files = {**artifact.files, "run.sh": b"#!/bin/sh\n", "modules/local/table/x.tf.json": b"{}"}
    problems = refusal(rebuild_with_metadata(files))
    assert "'modules/local/table/x.tf.json': JSON Terraform is not accepted; use .tf files" in problems
    assert any(problem.startswith("'run.sh' is outside the artifact layout") for problem in problems)


def test_not_a_zip():
    assert refusal(b"this is not a zip")[0].startswith("not a readable zip archive")


def _with_metadata_version(artifact, version: str) -> bytes:
    files = dict(artifact.files)
    files["metadata.yaml"] = files["metadata.yaml"].replace(b"version: 0.1.87", f"version: {version}".encode())
    return rebuild_with_metadata(files)


def test_an_overlong_version_is_refused_with_file_and_line(artifact):
    data = _with_metadata_version(artifact, "1.0.0-" + "a" * 100)
    [problem] = [p for p in refusal(data) if "version" in p]
    metadata = zipfile.ZipFile(io.BytesIO(data)).read("metadata.yaml")
    line = next(i for i, text in enumerate(metadata.splitlines(), 1) if text.startswith(b"version:"))
    assert problem.startswith(f"metadata.yaml:{line}: version '1.0.0-aaaa")
    assert "at most 64 characters" in problem
