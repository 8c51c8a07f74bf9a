"""Deletion protection with real Terraform: refused at plan time by Hangar's check, and at apply by
the local cloud (defence in depth); removed on purpose by unprotecting first, an in-place update."""

import json

import pytest

from deployments.dsl.protection import protected_table_problems
from localcloud import bigquery
from localcloud.store import Store
from tests.localcloud_fixtures import localcloud_cli
from tests.terraform.test_modules import LOCALS, PROJECT

pytestmark = pytest.mark.terraform

SCHEMA = json.dumps([{"name": "dt", "type": "DATE"}, {"name": "n", "type": "INT64"}])
DATASET = """
module "dataset_kpis" {
  source                     = "../../modules/local/dataset"
  project_id                 = local.project_id
  dataset_id                 = "kpis"
  team                       = local.team
  delete_contents_on_destroy = true
}
"""
HOW_TO = "To remove the table on purpose: set `deletion_protection: false`, deploy that, then remove the table."
REFUSED = "FAILED_PRECONDITION: table sc-123-example-dev:kpis.events is protected from deletion"


def table(*, protection: bool | None = None, partitioning: str = "DAY", table_id: str = "events") -> str:
    setting = "" if protection is None else f"\n  deletion_protection = {str(protection).lower()}"
    return f"""
module "table_kpis--events" {{
  source            = "../../modules/local/table"
  project_id        = local.project_id
  dataset_id        = module.dataset_kpis.dataset_id
  table_id          = "{table_id}"
  schema            = file("${{path.module}}/../../bq_schemas/events.json")
  team              = local.team
  time_partitioning = {{ type = "{partitioning}", field = "dt" }}{setting}
}}
"""


def cli(ws, *args: str) -> object:
    return localcloud_cli("--url", ws.cloud.url, *args)


def rows(ws, table_id: str = "events") -> list[dict]:
    return cli(ws, "sql", "--project", PROJECT, "kpis", f"SELECT dt, n FROM {table_id} ORDER BY n")


def saved_plan(ws, *args: str) -> dict:
    ws.run("plan", "-out", "p.tfplan", *args)
    return json.loads(ws.run("show", "-json", "p.tfplan").stdout)


def fails(ws, *args: str) -> str:
    """The output of a failing command, lines joined (Terraform wraps diagnostics)."""
    return " ".join(ws.fails(*args).split())


def exists(ws, table_id: str = "events") -> bool:
    tables = cli(ws, "list", "--project", PROJECT, "--type", "table")
    return f"kpis.{table_id}" in {t["name"] for t in tables}


@pytest.fixture
def protected(workspace):
    """A table created with the module's default (protected), holding two rows."""
    workspace.write(LOCALS + DATASET + table(), **{"bq_schemas/events.json": SCHEMA})
    workspace.init()
    workspace.apply()
    assert workspace.plan()[0] == 0
    cli(
        workspace, "sql", "--project", PROJECT, "kpis", "INSERT INTO events VALUES ('2024-01-01', 1), ('2024-01-02', 2)"
    )
    state = json.loads(workspace.run("show", "-json").stdout)
    [resource] = [
        r
        for m in state["values"]["root_module"]["child_modules"]
        for r in m["resources"]
        if r["type"] == "localcloud_table"
    ]
    assert resource["values"]["deletion_protection"] is True
    return workspace


ROWS = [{"dt": "2024-01-01", "n": 1}, {"dt": "2024-01-02", "n": 2}]


def test_removing_a_protected_table_is_refused_at_plan_time_and_at_apply(protected) -> None:
    protected.write(LOCALS + DATASET)

    # Hangar's check on the saved plan, before anything changes.
    [problem] = protected_table_problems(saved_plan(protected))
    assert problem.startswith("Table kpis.events (module.table_kpis--events.localcloud_table.this) is protected")
    assert "this plan would delete it and its rows" in problem and problem.endswith(HOW_TO)

    # Applying it anyway (bypassing Hangar): the local cloud refuses, and the table keeps its rows.
    out = fails(protected, "apply", "-auto-approve")
    assert "Error: Table kpis.events is protected from deletion" in out
    assert REFUSED in out and "set deletion_protection: false on the table" in out
    assert exists(protected) and rows(protected) == ROWS
    assert "module.table_kpis--events.localcloud_table.this" in protected.run("state", "list").stdout

    # On purpose: unprotect (in place, nothing replaced), deploy that, then remove the table.
    protected.write(LOCALS + DATASET + table(protection=False))
    code, out = protected.plan()
    assert code == 2 and "localcloud_table.this will be updated in-place" in out
    assert "~ deletion_protection = true -> false" in out and "0 to add, 1 to change, 0 to destroy" in out
    protected.apply()
    assert rows(protected) == ROWS, "unprotecting keeps the rows"
    assert (
        cli(protected, "show", "--project", PROJECT, "table", "kpis.events")["attributes"]["deletion_protection"]
        is False
    )

    protected.write(LOCALS + DATASET)
    assert protected_table_problems(saved_plan(protected)) == []
    protected.apply()
    assert not exists(protected)


def test_a_change_that_replaces_a_protected_table_is_refused(protected) -> None:
    protected.write(LOCALS + DATASET + table(partitioning="HOUR"))
    plan = saved_plan(protected)
    [change] = [c for c in plan["resource_changes"] if c["type"] == "localcloud_table"]
    assert change["change"]["actions"] == ["delete", "create"], "partitioning forces replacement"
    [problem] = protected_table_problems(plan)
    assert "Table kpis.events" in problem and HOW_TO in problem
    assert "this plan would replace it: delete it, losing its rows, and create it again because time_partitioning" in (
        problem
    )

    out = fails(protected, "apply", "-auto-approve")
    assert REFUSED in out
    assert rows(protected) == ROWS
    assert cli(protected, "show", "--project", PROJECT, "table", "kpis.events")["attributes"]["time_partitioning"] == {
        "type": "DAY",
        "field": "dt",
    }

    # A renamed table is a replacement too.
    protected.write(LOCALS + DATASET + table(table_id="events_v2"))
    [problem] = protected_table_problems(saved_plan(protected))
    assert "Table kpis.events" in problem and "create it again because table_id changes" in problem
    assert REFUSED in fails(protected, "apply", "-auto-approve")
    assert rows(protected) == ROWS and not exists(protected, "events_v2")


def test_destroying_an_environment_with_a_protected_table_is_refused(protected) -> None:
    [problem] = protected_table_problems(saved_plan(protected, "-destroy"))
    assert "destroying the environment would delete it and its rows" in problem
    assert "Destroying the environment requires setting `deletion_protection: false` on its tables first" in problem

    out = fails(protected, "destroy", "-auto-approve")
    assert REFUSED in out
    assert rows(protected) == ROWS
    datasets = cli(protected, "list", "--project", PROJECT, "--type", "dataset")
    assert [d["name"] for d in datasets] == ["kpis"], "the dataset is not destroyed under its table"

    protected.write(LOCALS + DATASET + table(protection=False))
    protected.apply()
    assert protected_table_problems(saved_plan(protected, "-destroy")) == []
    protected.destroy()
    assert cli(protected, "list", "--project", PROJECT) == []


def test_a_table_stored_before_the_flag_reads_as_protected_without_a_spurious_diff(protected) -> None:
    # Before this change neither the local cloud's record nor Terraform's state had the flag.
    store = Store(protected.cloud.root)
    record = store.get(bigquery.TABLE, PROJECT, "kpis.events")
    record.attrs.pop("deletion_protection")
    with store.session(write=True) as conn:
        store.put(conn, bigquery.TABLE, PROJECT, "kpis.events", record.attrs)
    state_file = protected.dir / "terraform.tfstate"
    state = json.loads(state_file.read_text())
    for resource in state["resources"]:
        if resource["type"] == "localcloud_table":
            for instance in resource["instances"]:
                instance["attributes"].pop("deletion_protection")
    state["serial"] += 1
    state_file.write_text(json.dumps(state))

    # The module's default (true) and the stored table (read as protected) agree: no changes, with a
    # refresh or without one (the provider upgrades such a state to protected).
    code, out = protected.plan("-refresh=false")
    assert code == 0, out
    code, out = protected.plan()
    assert code == 0, out
    protected.write(LOCALS + DATASET)
    plan = saved_plan(protected, "-refresh=false")
    [change] = [c for c in plan["resource_changes"] if c["type"] == "localcloud_table"]
    assert change["change"]["before"]["deletion_protection"] is True
    assert len(protected_table_problems(plan)) == 1
    assert REFUSED in fails(protected, "apply", "-auto-approve")
    assert rows(protected) == ROWS

    # Unprotecting is the one intended diff.
    protected.write(LOCALS + DATASET + table(protection=False))
    code, out = protected.plan()
    assert code == 2 and "~ deletion_protection = true -> false" in out and "1 to change" in out
