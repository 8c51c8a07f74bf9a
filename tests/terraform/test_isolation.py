"""Through real Terraform: a run's token reaches its own project only, whatever the configuration computes."""

import pytest

from tests.terraform.test_modules import LOCALS, PROJECT

pytestmark = pytest.mark.terraform

VICTIM = "sc-2-victim-prod"
DENIED = f"PERMISSION_DENIED: run 12 may change {PROJECT} only, not {VICTIM}"
# The victim's id is computed, so no static check of the configuration could spot it.
ELSEWHERE = (
    LOCALS
    + """
locals {
  elsewhere = join("-", ["sc", "2", "victim", "prod"])
}

module "dataset_kpis" {
  source     = "../../modules/local/dataset"
  project_id = local.project_id
  dataset_id = "kpis"
  team       = local.team
}

module "dataset_loot" {
  source     = "../../modules/local/dataset"
  project_id = local.elsewhere
  dataset_id = "loot"
  team       = local.team
}
"""
)


def flat(output: str) -> str:
    """Terraform wraps long messages; compare them as one line."""
    return " ".join(output.split())


@pytest.fixture
def run_token(localcloud) -> dict:
    return localcloud.client().mint_token("run 12", [PROJECT], 600)


def test_apply_into_another_project_is_refused_and_creates_nothing_there(localcloud, make_workspace, run_token):
    ws = make_workspace("run", run_token["token"])
    ws.write(ELSEWHERE)
    ws.init()
    out = flat(ws.fails("apply", "-auto-approve"))
    assert DENIED in out and "Permission denied by the local cloud" in out
    operator = localcloud.client()
    assert VICTIM not in operator.projects() and operator.list_resources(VICTIM) == []


def test_another_projects_resource_cannot_be_read_or_imported(localcloud, make_workspace, run_token):
    localcloud.client().create_dataset(VICTIM, "finance")
    ws = make_workspace("run", run_token["token"])
    ws.write(
        LOCALS
        + f"""
resource "localcloud_dataset" "finance" {{
  project    = "{VICTIM}"
  dataset_id = "finance"
}}
"""
    )
    ws.init()
    assert DENIED in flat(ws.fails("import", "localcloud_dataset.finance", f"projects/{VICTIM}/datasets/finance"))
    assert [r["name"] for r in localcloud.client().list_resources(VICTIM)] == ["finance"]


def test_own_project_applies_and_a_revoked_token_stops_the_next_run(localcloud, make_workspace, run_token):
    ws = make_workspace("run", run_token["token"])
    ws.write(ELSEWHERE.split('module "dataset_loot"')[0])
    ws.init()
    ws.apply()
    assert [r["name"] for r in localcloud.client().list_resources(PROJECT)] == ["kpis"]
    localcloud.client().revoke_token(run_token["id"])
    out = flat(ws.fails("plan"))
    assert "Not authenticated to the local cloud" in out and "UNAUTHENTICATED: the token of run 12 was revoked" in out
