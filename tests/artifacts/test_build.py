"""Building artifacts: layout, metadata, determinism, raw Terraform, errors, the command."""

import io
import zipfile
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from deployments.artifacts import build_artifact, inspect_upload
from deployments.artifacts.metadata import sha256_hex
from deployments.dsl import DslError
from tests.artifacts.helpers import BUILT_AT


def build(source: Path, modules: Path, **kwargs):
    kwargs.setdefault("version", "0.1.87")
    return build_artifact(source_dir=source, modules_dir=modules, built_at=BUILT_AT, builder="ci", **kwargs)


def test_layout_and_metadata(example_project, contract_modules):
    built = build(example_project, contract_modules, source_revision="abc123")
    names = zipfile.ZipFile(io.BytesIO(built.content)).namelist()
    assert names == sorted(names)
    for env in ("dev", "test", "prod"):
        for name in ("main.yaml", "main.tf", "backend.tf", "outputs.tf", "providers.tf"):
            assert f"infrastructure/{env}/{name}" in names
    assert "infrastructure/bq_schemas/kpis/data_engine_compliance.json" in names
    assert "modules/local/table/main.tf" in names and "modules/local/bucket_access/main.tf" not in names
    assert not any(name.startswith(("dags/", "src/", "doc/")) for name in names)
    metadata = yaml.safe_load(built.files["metadata.yaml"])
    assert metadata["project"] == "sc-123-example" and metadata["version"] == "0.1.87"
    assert metadata["built_at"] == "2025-09-01T16:25:00Z" and metadata["builder"] == "ci"
    assert metadata["source_revision"] == "abc123" and metadata["environments"] == {
        "dev": "dsl",
        "prod": "dsl",
        "test": "dsl",
    }
    assert metadata["modules"]["table"]["version"] == "0.0.0-contract"
    assert metadata["files"]["hangar.yaml"] == sha256_hex(built.files["hangar.yaml"])
    assert set(metadata["files"]) == set(names) - {"metadata.yaml"}
    assert built.filename == "sc-123-example-0.1.87.zip"


def test_same_input_gives_the_same_zip_bytes(example_project, contract_modules):
    assert build(example_project, contract_modules).content == build(example_project, contract_modules).content


def test_build_time_from_source_date_epoch(example_project, contract_modules, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = build_artifact(source_dir=example_project, version="1.0.0", modules_dir=contract_modules)
    second = build_artifact(source_dir=example_project, version="1.0.0", modules_dir=contract_modules)
    assert first.content == second.content
    assert yaml.safe_load(first.files["metadata.yaml"])["built_at"] == "2023-11-14T22:13:20Z"


def test_built_artifact_passes_the_upload_checks(example_project, contract_modules):
    built = build(example_project, contract_modules)
    manifest = inspect_upload(io.BytesIO(built.content), expected_project_slug="sc-123-example")
    assert manifest.version == "0.1.87" and manifest.team == "data-platform" and manifest.target == "local"


def test_raw_terraform_environment(example_project, contract_modules):
    prod = example_project / "infrastructure/prod"
    (prod / "main.yaml").unlink()
    (prod / "datasets.tf").write_text(
        'module "reports" {\n  source     = "../../modules/local/dataset"\n  project_id = "sc-123-example-prod"\n'
        '  dataset_id = "reports"\n  team       = "data-platform"\n}\n'
    )
    built = build(example_project, contract_modules)
    assert yaml.safe_load(built.files["metadata.yaml"])["environments"]["prod"] == "terraform"
    assert "infrastructure/prod/providers.tf" in built.files and "infrastructure/prod/datasets.tf" in built.files
    inspect_upload(io.BytesIO(built.content), expected_project_slug="sc-123-example")


def test_raw_terraform_policy_violations_fail_the_build(example_project, contract_modules):
    prod = example_project / "infrastructure/prod"
    (prod / "main.yaml").unlink()
    (prod / "evil.tf").write_text('data "external" "x" {\n  program = ["sh"]\n}\n')
    (prod / "backend.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    with pytest.raises(DslError) as caught:
        build(example_project, contract_modules)
    assert [str(p) for p in caught.value.problems] == [
        "infrastructure/prod/backend.tf:1:1: 'backend.tf' is written by Hangar; put your Terraform in other files",
        "infrastructure/prod/backend.tf:1:1: terraform blocks are not allowed here: Hangar supplies the backend and "
        "the required providers",
        "infrastructure/prod/evil.tf:1:1: data source 'external' is not allowed: it runs a program on the worker",
    ]


def test_problems_of_every_file_are_reported_together(example_project, contract_modules):
    (example_project / "infrastructure/dev/main.yaml").write_text("infrastructure:\n  gcp:\n    composer: []\n")
    (example_project / "infrastructure/test/main.tf").write_text("")
    (example_project / "infrastructure/staging").mkdir()
    with pytest.raises(DslError) as caught:
        build(example_project, contract_modules, project_slug="sc-999-other")
    assert [str(p) for p in caught.value.problems] == [
        "hangar.yaml:1:1: this repository is project 'sc-123-example', not 'sc-999-other'",
        "infrastructure/dev/main.yaml:3:5: unknown key 'composer' in 'gcp'; did you mean 'composers'? allowed: "
        "'composers', 'datasets', 'service_accounts', 'processing_clusters'",
        "infrastructure/staging/:1:1: unknown folder; allowed: 'dev', 'test', 'prod', 'bq_schemas'",
        "infrastructure/test/main.yaml:1:1: both main.yaml and Terraform files (main.tf) are here; an environment "
        "is described by one or the other",
    ]


def test_bad_version_is_refused(example_project, contract_modules):
    with pytest.raises(ValueError, match="not a semantic version"):
        build(example_project, contract_modules, version="v1")


def test_command_writes_the_zip_and_prints_its_path(example_project, contract_modules, tmp_path, capsys):
    output = tmp_path / "out" / "a.zip"
    call_command(
        "build_artifact", str(example_project), "--version", "0.1.87", "--project", "sc-123-example",
        "--output", str(output), "--modules-dir", str(contract_modules), "--build-time", "2025-09-01T16:25:00Z",
    )  # fmt: skip
    assert capsys.readouterr().out.strip() == str(output)
    assert zipfile.ZipFile(output).testzip() is None


def test_command_default_output_under_dist(example_project, contract_modules, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    call_command("build_artifact", str(example_project), "--version", "0.2.0", "--modules-dir", str(contract_modules))
    assert capsys.readouterr().out.strip() == "dist/sc-123-example-0.2.0.zip"
    assert (tmp_path / "dist/sc-123-example-0.2.0.zip").is_file()


def test_command_prints_every_problem_and_writes_nothing(example_project, contract_modules, tmp_path, capsys):
    (example_project / "infrastructure/dev/main.yaml").write_text(
        "infrastructure:\n  gcp:\n    composers: [{nam: x}]\n"
    )
    output = tmp_path / "a.zip"
    with pytest.raises(CommandError, match="problem"):
        call_command(
            "build_artifact", str(example_project), "--version", "0.1.87", "--output", str(output),
            "--modules-dir", str(contract_modules),
        )  # fmt: skip
    err = capsys.readouterr().err
    assert "infrastructure/dev/main.yaml:3:18: unknown key 'nam' in composer; did you mean 'name'?" in err
    assert "infrastructure/dev/main.yaml:3:17: composer needs a 'name'" in err
    assert not output.exists()


def test_a_version_longer_than_the_database_holds_is_refused(example_project, contract_modules):
    from deployments.artifacts.models import Artifact

    limit = Artifact._meta.get_field("version").max_length
    build(example_project, contract_modules, version="1.0.0-" + "a" * (limit - 6))  # exactly the limit builds
    with pytest.raises(ValueError, match=f"at most {limit} characters"):
        build(example_project, contract_modules, version="1.0.0-" + "a" * (limit - 5))
