"""The gcp target: modules on hashicorp/google, builds for gcp, and the offline schema validator."""

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from deployments.artifacts import build_artifact
from deployments.dsl.errors import DslError
from deployments.dsl.gcp_schema import load_schema
from deployments.dsl.gcp_schema.validator import check_environment_files, check_module_files, read_module_interface
from deployments.dsl.targets import TARGETS, deployer_account
from deployments.runs import toolchain
from tests.dsl.conftest import EXAMPLE, REPO

GCP = TARGETS["gcp"]
MODULES = REPO / "terraform_modules"
GCP_MODULES = MODULES / "gcp"
EVERYTHING = Path(__file__).resolve().parent / "fixtures" / "sc-77-everything"


def module_files(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root.parent)): path.read_text() for path in sorted(root.rglob("*.tf"))}


def validate_build(built) -> list[str]:
    """Every problem the validator finds in a built artifact: its modules and its environments."""
    modules = {path: data for path, data in built.files.items() if path.startswith("modules/gcp/")}
    problems = check_module_files(modules, version=GCP.provider_version)
    envs = {path.split("/")[1] for path in built.files if path.startswith("infrastructure/") and path.endswith(".tf")}
    for env in sorted(envs):
        files = {p: d for p, d in built.files.items() if p.startswith(f"infrastructure/{env}/") and p.endswith(".tf")}
        problems += check_module_files(files, version=GCP.provider_version)  # the provider block
        problems += check_environment_files(files, modules_dir=GCP_MODULES, module_prefix=GCP.module_source(""))
    return [str(problem) for problem in problems]


def test_the_schema_extract_names_its_provider_version_and_covers_every_resource_the_modules_use():
    schema = load_schema(GCP.provider_version)
    assert (schema["provider"], schema["version"]) == ("hashicorp/google", "6.50.0")
    used = set()
    for text in module_files(GCP_MODULES).values():
        used.update(line.split('"')[1] for line in text.splitlines() if line.startswith('resource "'))
    assert used == set(schema["resources"])
    table = schema["resources"]["google_bigquery_table"]
    assert table["attributes"]["table_id"] == {"type": "string", "required": True}
    assert table["blocks"]["time_partitioning"]["max_items"] == 1
    assert table["blocks"]["time_partitioning"]["attributes"]["type"]["required"] is True
    assert "impersonate_service_account" in schema["provider_config"]["attributes"]


def test_every_gcp_module_has_the_local_modules_variables_and_outputs_and_a_readme():
    local = sorted(path.name for path in (MODULES / "local").iterdir() if path.is_dir())
    assert sorted(path.name for path in GCP_MODULES.iterdir() if path.is_dir()) == local
    for name in local:
        assert read_module_interface(GCP_MODULES / name) == read_module_interface(MODULES / "local" / name), name
        readme = (GCP_MODULES / name / "README.md").read_text()
        assert "From the DSL" in readme and "google_" in readme, name


def test_every_gcp_module_passes_the_schema_validator():
    assert check_module_files(module_files(GCP_MODULES), version=GCP.provider_version) == []


def test_the_example_builds_for_gcp_on_the_gcp_modules_and_validates():
    built = build_artifact(source_dir=EXAMPLE, version="0.1.0", target="gcp")
    local = build_artifact(source_dir=EXAMPLE, version="0.1.0")
    metadata = yaml.safe_load(built.files["metadata.yaml"])
    assert metadata["target"] == "gcp"
    assert metadata["provider"] == {"source": "hashicorp/google", "version": "6.50.0"}
    providers = built.files["infrastructure/prod/providers.tf"].decode()
    assert 'version = "6.50.0"' in providers
    assert 'impersonate_service_account = "hangar-deployer@sc-123-example-prod.iam.gserviceaccount.com"' in providers
    assert "credentials" not in providers and "access_token" not in providers
    assert built.files["infrastructure/prod/backend.tf"] == local.files["infrastructure/prod/backend.tf"]
    # The same environments, only the module path differs.
    main = built.files["infrastructure/prod/main.tf"].decode()
    assert main == local.files["infrastructure/prod/main.tf"].decode().replace("/modules/local/", "/modules/gcp/")
    assert any(path.startswith("modules/gcp/table/") for path in built.files)
    assert not any(path.startswith("modules/local/") for path in built.files)
    assert validate_build(built) == []


def test_a_project_using_every_dsl_feature_builds_for_gcp_and_validates():
    built = build_artifact(source_dir=EVERYTHING, version="1.0.0", target="gcp")
    modules = {path.split("/")[2] for path in built.files if path.startswith("modules/gcp/")}
    assert modules == {path.name for path in GCP_MODULES.iterdir()}  # every module is used
    main = built.files["infrastructure/dev/main.tf"].decode()
    for expected in ("composer-3-airflow-2.10.5", "member_sc-123-example_dags", "HOUR", "deletion_protection = false"):
        assert expected in main
    assert validate_build(built) == []


def test_the_shared_airflow_definition_builds_for_gcp_and_validates(tmp_path, settings):
    from onboarding.shared_composer.services import shared_definition

    def member(slug, team, created=()):
        return SimpleNamespace(
            project=SimpleNamespace(slug=slug, team=SimpleNamespace(slug=team)), created_accounts=list(created)
        )

    files = shared_definition(members=[member("sc-9-b", "beta"), member("sc-8-a", "alpha", ["dev"])], team="platform")
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    built = build_artifact(source_dir=tmp_path, version="0.1.0", target="gcp")
    assert "modules/gcp/bucket_access/main.tf" in built.files
    assert validate_build(built) == []


def test_the_deployer_account_comes_from_GCP_DEPLOYER_ACCOUNT_and_a_bad_pattern_fails_the_build(monkeypatch):
    assert deployer_account("sc-1-a-dev", "deploy-{project}@ops-project.iam.gserviceaccount.com") == (
        "deploy-sc-1-a-dev@ops-project.iam.gserviceaccount.com"
    )
    monkeypatch.setenv("GCP_DEPLOYER_ACCOUNT", "terraform@{project}.iam.gserviceaccount.com")
    built = build_artifact(source_dir=EXAMPLE, version="0.1.0", target="gcp")
    assert (
        "terraform@sc-123-example-dev.iam.gserviceaccount.com"
        in built.files["infrastructure/dev/providers.tf"].decode()
    )
    monkeypatch.setenv("GCP_DEPLOYER_ACCOUNT", "{team}@x.iam.gserviceaccount.com")
    with pytest.raises(DslError) as raised:
        build_artifact(source_dir=EXAMPLE, version="0.1.0", target="gcp")
    assert (
        "infrastructure/dev/main.yaml:1:1: GCP_DEPLOYER_ACCOUNT '{team}@x.iam.gserviceaccount.com' may only use {project}"
        in str(raised.value)
    )


# -- planted errors, each in a copy of a module ----------------------------------------------------


@pytest.fixture
def modules_copy(tmp_path) -> Path:
    return Path(shutil.copytree(GCP_MODULES, tmp_path / "gcp"))


def plant(modules: Path, relative: str, old: str, new: str) -> list[str]:
    path = modules / relative
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return [str(problem) for problem in check_module_files(module_files(modules), version=GCP.provider_version)]


def test_a_misspelt_argument_is_reported_with_file_line_and_the_near_miss(modules_copy):
    problems = plant(modules_copy, "table/main.tf", "  deletion_protection = var", "  deletion_protecton = var")
    assert problems == [
        "gcp/table/main.tf:21:3: google_bigquery_table.this: unknown argument 'deletion_protecton'; "
        "did you mean 'deletion_protection'?"
    ]


def test_a_missing_required_argument_is_reported(modules_copy):
    problems = plant(modules_copy, "project_iam_member/main.tf", "  role    = var.role\n", "")
    assert problems == [
        "gcp/project_iam_member/main.tf:2:1: google_project_iam_member.this: missing required argument 'role'"
    ]


def test_a_wrong_nested_block_is_reported(modules_copy):
    # software_config belongs inside config { }, not directly in the resource.
    problems = plant(
        modules_copy,
        "composer_environment/main.tf",
        "  config {\n    software_config {",
        "  software_config {\n    config {",
    )
    assert any(
        "google_composer_environment.this: unknown block 'software_config'; it belongs inside config { }; "
        "blocks here: 'config', 'storage_config', 'timeouts'" in problem
        for problem in problems
    ), problems


def test_too_many_blocks_wrong_literal_types_and_unknown_attributes_are_reported(modules_copy):
    problems = plant(
        modules_copy,
        "composer_environment/main.tf",
        "    node_config {\n      service_account = google_service_account.environment.email\n    }\n",
        '    node_config {\n      service_account = "a@b.iam.gserviceaccount.com"\n    }\n'
        '    node_config {\n      disk_size_gb = "large"\n    }\n',
    )
    assert any("too many 'node_config' blocks: at most 1" in problem for problem in problems), problems
    assert any("'disk_size_gb' expects number: the string \"large\" is not a number" in problem for problem in problems)
    problems = plant(
        modules_copy, "table/outputs.tf", "google_bigquery_table.this.id", "google_bigquery_table.this.idd"
    )
    assert any("'google_bigquery_table' has no attribute 'idd'; did you mean 'id'?" in problem for problem in problems)


def test_module_calls_are_checked_against_the_modules_variables_and_outputs():
    built = build_artifact(source_dir=EXAMPLE, version="0.1.0", target="gcp")
    files = {
        p: d.decode() for p, d in built.files.items() if p.startswith("infrastructure/prod/") and p.endswith(".tf")
    }
    files["infrastructure/prod/main.tf"] = (
        files["infrastructure/prod/main.tf"]
        .replace("  clustering = ", "  clustring = ", 1)
        .replace("  team       = local.team\n", "", 1)
    )
    files["infrastructure/prod/outputs.tf"] = files["infrastructure/prod/outputs.tf"].replace(
        ".table_id", ".tabel_id", 1
    )
    problems = [
        str(p) for p in check_environment_files(files, modules_dir=GCP_MODULES, module_prefix="../../modules/gcp/")
    ]
    assert any("unknown input 'clustring'; did you mean 'clustering'?" in p for p in problems), problems
    assert any("missing required input 'team'" in p for p in problems), problems
    assert any("has no output 'tabel_id'; did you mean 'table_id'?" in p for p in problems), problems


@pytest.mark.terraform
def test_gcp_modules_and_generated_terraform_pass_terraform_fmt_check(tmp_path):
    binary = toolchain.terraform_binary()
    for source in (EXAMPLE, EVERYTHING):
        built = build_artifact(source_dir=source, version="0.1.0", target="gcp")
        for path, data in built.files.items():
            if path.endswith(".tf"):
                (tmp_path / source.name / path).parent.mkdir(parents=True, exist_ok=True)
                (tmp_path / source.name / path).write_bytes(data)
    for folder in (GCP_MODULES, tmp_path):
        check = subprocess.run([binary, "fmt", "-check", "-recursive", str(folder)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_a_build_for_gcp_refuses_a_module_the_schema_rejects_with_file_and_line(tmp_path):
    modules = Path(shutil.copytree(MODULES, tmp_path / "terraform_modules"))
    main = modules / "gcp" / "dataset" / "main.tf"
    main.write_text(main.read_text().replace("  location ", "  locaton  ", 1))
    with pytest.raises(DslError) as raised:
        build_artifact(source_dir=EXAMPLE, version="0.1.0", target="gcp", modules_dir=modules)
    assert [str(problem) for problem in raised.value.problems] == [
        "modules/gcp/dataset/main.tf:10:3: google_bigquery_dataset.this: unknown argument 'locaton'; "
        "did you mean 'location'?"
    ]
    build_artifact(source_dir=EXAMPLE, version="0.1.0", modules_dir=modules)  # local does not use it


def test_the_plan_time_deletion_protection_check_covers_bigquery_tables():
    from deployments.dsl.protection import protected_table_problems

    change = {
        "address": "module.table_kpis--events.google_bigquery_table.this",
        "module_address": "module.table_kpis--events",
        "mode": "managed",
        "type": "google_bigquery_table",
        "name": "this",
        "change": {"actions": ["delete", "create"], "before": {"deletion_protection": True}, "after": None},
    }
    remaining = {"root_module": {"child_modules": [{"resources": [{"address": "module.dataset_kpis.x.this"}]}]}}
    [problem] = protected_table_problems({"planned_values": remaining, "resource_changes": [change]})
    assert problem.startswith("Table kpis.events (module.table_kpis--events.google_bigquery_table.this) is protected")
