"""Plain Terraform is held to the policy; violations read like DSL errors."""

from deployments.dsl import check_terraform_files

BUNDLED = {"dataset", "table"}


def violations(text: str, role="environment") -> list[str]:
    report = check_terraform_files(
        files={"infrastructure/prod/custom.tf": text}, role=role, target="local", bundled_modules=BUNDLED
    )
    return [str(problem) for problem in report.problems]


def test_allowed_terraform_passes_and_reports_modules():
    text = 'module "d" {\n  source     = "../../modules/local/dataset"\n  dataset_id = "x"\n}\n'
    report = check_terraform_files(
        files={"infrastructure/prod/custom.tf": text}, role="environment", target="local", bundled_modules=BUNDLED
    )
    assert report.problems == [] and report.modules == {"dataset"}


def test_provisioner_is_refused_with_its_line():
    text = (
        'resource "localcloud_dataset" "d" {\n  name = "x"\n  provisioner "local-exec" {\n    command = "id"\n  }\n}\n'
    )
    assert violations(text) == [
        "infrastructure/prod/custom.tf:3:3: provisioners are not allowed: they run commands on the worker; "
        "use resources of the provider"
    ]


def test_external_data_source_is_refused():
    assert violations('data "external" "x" {\n  program = ["sh"]\n}\n') == [
        "infrastructure/prod/custom.tf:1:1: data source 'external' is not allowed: it runs a program on the worker"
    ]


def test_module_sources_only_from_bundled_modules():
    text = (
        'module "a" {\n  source = "git::https://example.com/m.git"\n}\n'
        'module "b" {\n  source = "../../modules/local/bucket"\n}\n'
        'module "c" {\n  source = "../../modules/local/${var.m}"\n}\n'
    )
    problems = violations(text)
    assert problems[0].startswith("infrastructure/prod/custom.tf:2:3: module source 'git::https://example.com/m.git'")
    assert "only modules bundled with Hangar" in problems[0]
    assert problems[1] == (
        "infrastructure/prod/custom.tf:5:3: module 'bucket' is not bundled for target 'local'; "
        "bundled: 'dataset', 'table'"
    )
    assert problems[2].startswith("infrastructure/prod/custom.tf:8:3: module source must be a plain string")


def test_provider_and_backend_come_from_hangar():
    text = 'provider "localcloud" {}\nterraform {\n  backend "local" {}\n}\n'
    assert violations(text) == [
        "infrastructure/prod/custom.tf:1:1: provider blocks are not allowed: "
        "Hangar supplies the provider configuration",
        "infrastructure/prod/custom.tf:2:1: terraform blocks are not allowed here: Hangar supplies the backend and the "
        "required providers",
    ]


def test_modules_may_require_providers_but_not_configure_a_backend():
    text = 'terraform {\n  required_providers {}\n  backend "s3" {}\n}\n'
    assert violations(text, role="module") == [
        "infrastructure/prod/custom.tf:3:3: 'backend' is not allowed in a module's terraform block; allowed: "
        "'required_providers', 'required_version' (Hangar supplies the backend)"
    ]


def test_syntax_error_has_a_position():
    [problem] = violations('resource "x" "y" {\n  a = \n}\n')
    assert problem == "infrastructure/prod/custom.tf:2:7: invalid Terraform syntax: unexpected line break"
