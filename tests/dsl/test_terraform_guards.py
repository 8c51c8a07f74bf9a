"""Tenant isolation in plain Terraform: project ids, file reads, templates and file types (issue 11)."""

import pytest

from deployments.dsl import check_terraform_files
from deployments.dsl.terraform_guards import unchecked_terraform_file

OWN = "sc-123-example-prod"
FILE = "infrastructure/prod/custom.tf"


def violations(text: str, *, role="environment", project_id=OWN, others=(), path=FILE) -> list[str]:
    report = check_terraform_files(
        files={path: text},
        role=role,
        target="local",
        bundled_modules={"dataset", "table"},
        project_id=project_id,
        other_project_ids=others,
    )
    return [str(problem) for problem in report.problems]


def module(project: str) -> str:
    return f'module "d" {{\n  source     = "../../modules/local/dataset"\n  project_id = "{project}"\n}}\n'


# Project ids ----------------------------------------------------------------------


def test_the_own_project_and_computed_ids_pass():
    assert violations(module(OWN)) == []
    assert violations('resource "localcloud_dataset" "d" {\n  project = local.project_id\n}\n') == []
    assert violations('resource "localcloud_dataset" "d" {\n  project = join("-", ["sc", var.x])\n}\n') == []


def test_a_literal_other_project_in_a_resource_is_refused_with_what_is_allowed():
    [problem] = violations('resource "localcloud_dataset" "d" {\n  name    = "x"\n  project = "sc-7-other-prod"\n}\n')
    assert problem.startswith(f"{FILE}:3:3: 'project = \"sc-7-other-prod\"' is not allowed: ")
    assert f"only into its own project '{OWN}'" in problem and "local.project_id" in problem


def test_a_literal_other_project_in_a_module_call_is_refused():
    [problem] = violations(module("sc-7-other-prod"))
    assert problem.startswith(f"{FILE}:3:3: 'project_id = \"sc-7-other-prod\"' is not allowed")


def test_another_environment_of_the_same_project_is_another_project():
    assert violations(module("sc-123-example-dev"))[0].startswith(f"{FILE}:3:3: 'project_id = \"sc-123-example-dev\"'")


def test_a_non_hangar_literal_project_is_refused_too():
    assert "is not allowed" in violations(module("bigquery-public-data"))[0]


def test_project_keys_in_objects_and_nested_blocks_are_checked():
    text = 'resource "x" "y" {\n  settings {\n    project = "sc-7-other-dev"\n  }\n  m = { project_id = "p-q" }\n}\n'
    problems = violations(text)
    assert [problem.split(": ")[0] for problem in problems] == [f"{FILE}:3:5", f"{FILE}:5:9"]


def test_other_hangar_ids_in_any_literal_text_are_refused():
    text = 'locals {\n  prefix = "gs://bucket/dags/sc-7-other-dev/"\n  x = "a ${var.y} sc-8-more-test"\n}\n'
    problems = violations(text)
    assert [problem.split(": ")[0] for problem in problems] == [f"{FILE}:2:12", f"{FILE}:3:7"]
    assert "'sc-7-other-dev' is another project's id" in problems[0]


def test_what_is_not_a_reference_to_another_project_passes():
    text = (
        "locals {\n"
        '  bucket      = "sc-123-example-prod-data"\n'  # named after the own project
        '  other_name  = "sc-7-other-dev-backups"\n'  # not an id: a bucket name that starts like one
        '  description = "copied from sc-7-other-dev"\n'  # prose
        '  members     = ["serviceAccount:etl@sc-7-other-dev.iam.gserviceaccount.com"]\n'  # an IAM member
        "}\n"
    )
    assert violations(text) == []


def test_the_account_acted_upon_must_be_of_the_own_project():
    text = 'resource "localcloud_iam_member" "x" {\n  service_account = "a@sc-7-other-dev.iam.gserviceaccount.com"\n}\n'
    [problem] = violations(text)
    assert problem.startswith(f"{FILE}:2:3: 'service_account' names the service account")


def test_the_platform_project_may_name_its_members():
    assert violations(module("sc-123-example-dev"), project_id="sc-1-msc-dev", others=("sc-123-example-dev",)) == []
    assert violations(module("sc-9-x-dev"), project_id="sc-1-msc-dev", others=("sc-123-example-dev",))


def test_modules_hold_no_literal_project_ids():
    [problem] = violations('resource "x" "y" {\n  project = "sc-1-x-dev"\n}\n', role="module", project_id=None)
    assert "a module gets its project from a variable" in problem
    assert violations('resource "x" "y" {\n  project = var.project_id\n}\n', role="module", project_id=None) == []


# File reads -----------------------------------------------------------------------

REFUSED_READS = {
    'file("${path.cwd}/../../secret-key")': "builds its path on something other than path.module",
    'file("/etc/passwd")': "reads the absolute path '/etc/passwd'",
    'file("/proc/1/environ")': "reads the absolute path '/proc/1/environ'",
    'templatefile("${path.module}/../../x.tftpl", {})': "leads out of the module with '..'",
    'file("${path.module}/../../../etc/passwd")': "leads out of the module with '..'",
    'file("${path.module}/../bq_schemas/../../secret")': "leads out of the module with '..'",
    "file(var.p)": "needs a path written as text starting with ${path.module}",
    'file("x.json")': "relative to the working directory",
    'filebase64("${path.module}/${var.name}")': "after ${path.module} only text is allowed",
    'filesha256("${path.root}/x")': "something other than path.module",
    'fileexists("~/.ssh/id_rsa")': "reads the absolute path '~/.ssh/id_rsa'",
    'fileset(path.module, "../**")': "leads out of the module with '..'",
    'templatefile("${path.module}/x.sh", {})': "templates must be .tftpl files",
    'pathexpand("${path.module}/x")': "pathexpand() is not allowed",
}


@pytest.mark.parametrize("call", REFUSED_READS)
def test_file_reads_outside_the_module_are_refused(call):
    [problem] = violations(f"locals {{\n  x = {call}\n}}\n")
    assert problem.startswith(f"{FILE}:2:7: ") and REFUSED_READS[call] in problem, problem
    if "pathexpand" not in call:
        assert "a file may be read only from the module itself" in problem


def test_reads_from_the_module_and_the_schemas_pass():
    text = (
        "locals {\n"
        '  a = file("${path.module}/x.json")\n'
        '  b = file("${path.module}/../bq_schemas/kpis/t.json")\n'
        '  c = fileset(path.module, "*.json")\n'
        '  d = templatefile("${path.module}/t.tftpl", { a = 1 })\n'
        "}\n"
    )
    assert violations(text) == []


def test_modules_may_not_reach_the_schemas_either():
    text = 'locals {\n  a = file("${path.module}/../bq_schemas/t.json")\n}\n'
    assert "leads out of the module" in violations(text, role="module", project_id=None)[0]


def test_calls_nested_anywhere_are_found():
    text = (
        'variable "v" {\n  default = file("/etc/hosts")\n}\n'
        'output "o" {\n  value = upper(trimspace(file("/etc/shadow")))\n}\n'
        'resource "x" "y" {\n  for_each = { for k in [1] : k => filemd5("/k") }\n'
        '  z = var.a ? (file("/a")) : "b"\n}\n'
    )
    lines = [problem.split(":")[1] for problem in violations(text)]
    assert lines == ["2", "5", "8", "9"]


def test_heredocs_are_checked_as_templates():
    text = (
        "locals {\n"
        "  script = <<-EOT\n"
        "    echo ok\n"
        '    ${file("/etc/passwd")}\n'
        '    %{ if fileexists("/x") }yes%{ endif }\n'
        "    owner sc-7-other-dev\n"
        '    $${file("/not/a/call")}\n'
        "  EOT\n"
        "}\n"
    )
    problems = violations(text)
    assert [problem.split(": ")[0] for problem in problems] == [f"{FILE}:4:1", f"{FILE}:5:1", f"{FILE}:6:1"]


def test_template_files_are_checked_too():
    template = 'Hello ${name}\n${file("/etc/passwd")}\n'
    [problem] = violations(template, path="modules/local/x/t.tftpl", role="module", project_id=None)
    assert problem.startswith("modules/local/x/t.tftpl:2:1: file() reads the absolute path")


# File types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["x.tofu", "x.tofu.json", "x.tf.json", "override.tf", "main_override.tf", "y_override.tofu"]
)
def test_files_terraform_or_opentofu_would_load_unchecked_are_named(name):
    assert unchecked_terraform_file(f"infrastructure/dev/{name}")


@pytest.mark.parametrize("name", ["main.tf", "overrides.tf", "x.json", "main.yaml", "t.tftpl"])
def test_ordinary_files_are_not(name):
    assert unchecked_terraform_file(name) is None


def test_override_files_are_refused_by_the_policy():
    [problem] = violations("locals {\n  a = 1\n}\n", path="infrastructure/prod/main_override.tf")
    assert problem.startswith("infrastructure/prod/main_override.tf:1:1: override files")
