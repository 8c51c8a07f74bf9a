"""Import of an existing dataset, and bad input reported with the field's name."""

import pytest

from tests.terraform.test_modules import LOCALS, PROJECT

pytestmark = pytest.mark.terraform


def test_import_existing_dataset(workspace) -> None:
    workspace.cloud.client().create_dataset(
        PROJECT,
        "legacy",
        description="made by hand",
        location="EU",
        labels={"team": "data-team", "managed_by": "hangar"},
    )
    workspace.write(
        LOCALS
        + """
module "dataset_legacy" {
  source      = "../../modules/local/dataset"
  project_id  = local.project_id
  dataset_id  = "legacy"
  description = "made by hand"
  team        = local.team
}
"""
    )
    workspace.init()
    assert "already exists" in workspace.fails("apply", "-auto-approve")
    imported = workspace.run(
        "import", "module.dataset_legacy.localcloud_dataset.this", f"projects/{PROJECT}/datasets/legacy"
    )
    assert "Import successful" in imported.stdout
    code, out = workspace.plan()
    assert code == 0, out


def test_invalid_schema_type_names_the_field(workspace) -> None:
    workspace.write(
        LOCALS
        + """
resource "localcloud_table" "bad" {
  project    = local.project_id
  dataset_id = "kpis"
  table_id   = "bad"
  schema     = jsonencode([{ name = "id", type = "INT64" }, { name = "amount", type = "MONEY" }])
}
"""
    )
    workspace.init()
    out = workspace.fails("plan")
    assert "Invalid schema[1] (amount).type" in out
    assert "'MONEY'" in out and "allowed types: STRING" in out


def test_table_in_missing_dataset_names_the_dataset(workspace) -> None:
    workspace.write(
        LOCALS
        + """
module "table_nowhere--t" {
  source     = "../../modules/local/table"
  project_id = local.project_id
  dataset_id = "nowhere"
  table_id   = "t"
  schema     = jsonencode([{ name = "id", type = "STRING" }])
  team       = local.team
}
"""
    )
    workspace.init()
    out = workspace.fails("apply", "-auto-approve")
    assert "Invalid dataset_id" in out and f"dataset {PROJECT}:nowhere does not exist" in out


def test_unknown_role_names_the_field(workspace) -> None:
    workspace.write(
        LOCALS
        + """
resource "localcloud_iam_binding" "bad" {
  project = local.project_id
  role    = "roles/composer.superUser"
  members = ["group:data-team@example.com"]
}
"""
    )
    workspace.init()
    out = workspace.fails("plan")
    assert "Invalid role" in out and "'roles/composer.superUser'" in out and "roles/composer.user" in out


def test_module_validation_rejects_bad_partitioning(workspace) -> None:
    workspace.write(
        LOCALS
        + """
module "table_kpis--t" {
  source            = "../../modules/local/table"
  project_id        = local.project_id
  dataset_id        = "kpis"
  table_id          = "t"
  schema            = jsonencode([{ name = "dt", type = "DATE" }])
  team              = local.team
  time_partitioning = { type = "WEEK", field = "dt" }
}
"""
    )
    workspace.init()
    out = workspace.fails("plan")
    assert "time_partitioning" in out and "DAY, HOUR, MONTH or YEAR" in out
