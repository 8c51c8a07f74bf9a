"""Changes made outside Terraform show up in plan (and -refresh-only); apply repairs them."""

import pytest

from tests.localcloud_fixtures import localcloud_cli
from tests.terraform.test_modules import LOCALS, PROJECT, SCHEMA

pytestmark = pytest.mark.terraform

CONFIG = (
    LOCALS
    + """
module "dataset_kpis" {
  source     = "../../modules/local/dataset"
  project_id = local.project_id
  dataset_id = "kpis"
  team       = local.team
}

module "table_kpis--compliance" {
  source     = "../../modules/local/table"
  project_id = local.project_id
  dataset_id = module.dataset_kpis.dataset_id
  table_id   = "compliance"
  schema     = file("${path.module}/../../bq_schemas/compliance.json")
  team       = local.team
}

resource "localcloud_bucket" "exports" {
  project = local.project_id
  name    = "sc-123-example-dev-exports"
  labels  = { team = local.team }
}
"""
)


def localcloud(ws, *args: str) -> object:
    """The local cloud's CLI, against the server the workspace's Terraform uses."""
    return localcloud_cli("--url", ws.cloud.url, *args)


@pytest.fixture
def applied(workspace):
    workspace.write(CONFIG, **{"bq_schemas/compliance.json": SCHEMA})
    workspace.init()
    workspace.apply()
    assert workspace.plan()[0] == 0
    return workspace


def columns(ws) -> list[str]:
    table = localcloud(ws, "show", "--project", PROJECT, "table", "kpis.compliance")
    return [c["name"] for c in table["columns"]]


def test_dropped_column_is_drift_and_apply_restores_it(applied) -> None:
    localcloud(
        applied, "sql", "--project", PROJECT, "kpis", "INSERT INTO compliance (dt, user_id) VALUES ('2024-01-01', 1)"
    )
    localcloud(applied, "drop-column", "--project", PROJECT, "kpis.compliance", "user_id")
    assert columns(applied) == ["dt", "tags", "meta"]

    code, out = applied.plan("-refresh-only")
    assert code == 2 and "changed outside of Terraform" in out and '"user_id"' in out

    code, out = applied.plan()
    assert code == 2 and "localcloud_table.this will be updated in-place" in out
    assert 'name = "user_id"' in out and "1 to change" in out

    applied.apply()
    assert columns(applied) == ["dt", "user_id", "tags", "meta"]
    assert applied.plan()[0] == 0
    rows = localcloud(applied, "sql", "--project", PROJECT, "kpis", "SELECT dt, user_id FROM compliance")
    assert rows == [{"dt": "2024-01-01", "user_id": None}], "rows survive the repair"


def test_deleted_bucket_is_recreated(applied) -> None:
    localcloud(applied, "delete", "--project", PROJECT, "bucket", "sc-123-example-dev-exports")
    code, out = applied.plan("-refresh-only")
    assert code == 2 and "localcloud_bucket.exports has been deleted" in out
    code, out = applied.plan()
    assert code == 2 and "localcloud_bucket.exports will be created" in out
    applied.apply()
    assert (
        localcloud(applied, "show", "--project", PROJECT, "bucket", "sc-123-example-dev-exports")["status"] == "present"
    )
    assert applied.plan()[0] == 0


def test_changed_label_is_put_back(applied) -> None:
    localcloud(applied, "set-label", "--project", PROJECT, "dataset", "kpis", "team=someone-else", "extra=yes")
    code, out = applied.plan()
    assert code == 2
    assert '"team"       = "someone-else" -> "data-team"' in out or '"team" = "someone-else" -> "data-team"' in out
    assert '- "extra"' in out
    applied.apply()
    dataset = localcloud(applied, "show", "--project", PROJECT, "dataset", "kpis")
    assert dataset["attributes"]["labels"] == {"managed_by": "hangar", "team": "data-team"}
    assert applied.plan()[0] == 0
