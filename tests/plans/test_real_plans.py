"""Real plans: DSL compiled by deployments.dsl, `terraform plan -out` and `terraform show -json` with the
real CLI against the local cloud, read back in the DSL's terms."""

import pytest

from deployments.plans import services
from deployments.plans.readable import KNOWN_AFTER_APPLY, SENSITIVE, api_shape, readable_plan
from tests.plans.conftest import MAIN_YAML, PROJECT

pytestmark = pytest.mark.terraform

MAIN = """\
definitions:
  gdpr: &GDPR
    gdpr_personal_data: "0"

infrastructure:
  gcp:
    datasets:
      - name: kpis_reporting
        parameters:
          description: Reports
        tables:
          - name: deployments_daily
            parameters:
              description: Deployments per day
              schema: "file:bq_schemas/daily.json"
              gdpr_labels: *GDPR
          - name: archive
            parameters:
              schema: "file:bq_schemas/archive.json"
    service_accounts:
      - name: bigdata-compute
        impersonated_by:
          - robot@sc-123-example-dev.iam.gserviceaccount.com
"""
DAILY = [{"name": "dt", "type": "DATE", "mode": "REQUIRED"}, {"name": "deploys", "type": "INT64"}]
ARCHIVE = [{"name": "dt", "type": "DATE"}, {"name": "payload", "type": "STRING"}]

# The second version: a column added, one described, a label changed, the archive table and the
# impersonation grant dropped.
CHANGED = (
    MAIN.replace('gdpr_personal_data: "0"', 'gdpr_personal_data: "1"')
    .replace(
        """          - name: archive
            parameters:
              schema: "file:bq_schemas/archive.json"
""",
        "",
    )
    .replace(
        """        impersonated_by:
          - robot@sc-123-example-dev.iam.gserviceaccount.com
""",
        "",
    )
)
DAILY_CHANGED = [
    {"name": "dt", "type": "DATE", "mode": "REQUIRED"},
    {"name": "deploys", "type": "INT64", "description": "successful deploys"},
    {"name": "team", "type": "STRING"},
]
SECRET_TF = """
variable "reader_secret" {
  type      = string
  sensitive = true
  default   = "s3cr3t"
}

resource "localcloud_service_account" "reader" {
  project      = local.project_id
  account_id   = "plain-reader"
  display_name = var.reader_secret
}
"""


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def test_create_names_everything_in_dsl_terms(dsl_workspace) -> None:
    dsl_workspace.write(MAIN, {"daily.json": DAILY, "archive.json": ARCHIVE}, {"secret.tf": SECRET_TF})
    plan = readable_plan(dsl_workspace.plan_json(), sources=dsl_workspace.sources)

    assert (plan.add, plan.change, plan.destroy) == (6, 0, 0)
    assert not plan.destroys_anything and not plan.replaces_anything and not plan.warnings
    by_title = {resource.title: resource for resource in plan.resource_changes}
    table = by_title["table `kpis_reporting.deployments_daily`"]
    assert table.action == "create"
    assert table.address == "module.table_kpis_reporting--deployments_daily.localcloud_table.this"
    assert table.link == (MAIN_YAML, line_of(MAIN, "- name: deployments_daily"))
    sentences = [change.sentence for change in table.changes]
    assert "column `dt` added (DATE REQUIRED)" in sentences
    assert "label `gdpr_personal_data` added (0)" in sentences, "the anchor's labels, merged by the DSL"
    # A column added links to its line in the schema file.
    column = next(change for change in table.changes if change.path == "schema.deploys")
    assert column.link == ("infrastructure/bq_schemas/daily.json", 7)

    dataset = by_title["dataset `kpis_reporting`"]
    assert dataset.link == (MAIN_YAML, line_of(MAIN, "- name: kpis_reporting"))
    account = by_title["service account `bigdata-compute`"]
    email = next(change for change in account.changes if change.path == "email")
    assert email.after == KNOWN_AFTER_APPLY and email.sentence == "`email` (known after apply)"
    grant = by_title["impersonation `bigdata-compute by robot@sc-123-example-dev.iam.gserviceaccount.com`"]
    assert grant.link == (MAIN_YAML, line_of(MAIN, "- robot@"))

    # Plain Terraform keeps its address; a sensitive variable's value is never shown.
    plain = by_title["localcloud_service_account.reader"]
    assert plain.dsl is None
    display_name = next(change for change in plain.changes if change.path == "display_name")
    assert display_name.after == SENSITIVE
    assert "s3cr3t" not in repr(api_shape(plan))


def test_change_then_drop_a_table_with_rows_and_a_drift(dsl_workspace, localcloud) -> None:
    ws = dsl_workspace
    ws.write(MAIN, {"daily.json": DAILY, "archive.json": ARCHIVE})
    ws.apply()
    cloud = localcloud.client()
    cloud.query(
        PROJECT, "kpis_reporting", "INSERT INTO archive (dt, payload) VALUES ('2024-01-01', 'a'), ('2024-01-02', 'b')"
    )
    # A change made outside Terraform: a label set by hand on the table.
    cloud.set_labels(PROJECT, "table", "kpis_reporting.deployments_daily", {"owner": "someone"})
    assert services.table_row_count(PROJECT, "kpis_reporting", "archive") == 2
    assert services.table_row_count(PROJECT, "kpis_reporting", "nope") is None

    ws.write(CHANGED, {"daily.json": DAILY_CHANGED, "archive.json": ARCHIVE})
    plan = readable_plan(ws.plan_json(), sources=ws.sources, row_counts=services.table_row_count)

    assert (plan.add, plan.change, plan.destroy) == (0, 1, 2)
    assert plan.destroys_anything and not plan.replaces_anything
    daily = next(r for r in plan.resource_changes if r.dsl and r.dsl.name == "kpis_reporting.deployments_daily")
    assert daily.action == "update"
    assert daily.summary == (
        "label `gdpr_personal_data` 0 → 1; label `owner` removed (was someone); "
        "column `deploys` description (none) → successful deploys; column `team` added (STRING NULLABLE)"
    )
    assert daily.link == (MAIN_YAML, line_of(CHANGED, "- name: deployments_daily"))
    archive = next(r for r in plan.resource_changes if r.dsl and r.dsl.name == "kpis_reporting.archive")
    assert archive.action == "delete" and archive.link is None, "no longer in main.yaml: no line to link to"

    messages = {warning.kind: warning.message for warning in plan.warnings}
    assert (
        messages["data_loss"] == "table `kpis_reporting.archive` will be destroyed while holding 2 rows: they are lost"
    )
    assert messages["iam_removed"].startswith(
        "IAM grant removed: roles/iam.serviceAccountTokenCreator for `serviceAccount:robot@"
    )
    assert messages["drift"] == (
        "table `kpis_reporting.deployments_daily` was changed outside Hangar (label `owner` added (someone)); "
        "this apply puts it back"
    )
    # Drift is listed apart, in DSL terms.
    assert [(r.title, r.reverted, r.summary) for r in plan.drift] == [
        ("table `kpis_reporting.deployments_daily`", True, "label `owner` added (someone)")
    ]

    shape = api_shape(plan)
    assert set(shape) == {"add", "change", "destroy", "refresh_only", "resource_changes", "drift", "warnings"}
    assert shape["drift"] == [
        {
            "address": "module.table_kpis_reporting--deployments_daily.localcloud_table.this",
            "action": "update",
            "dsl": {"kind": "table", "name": "kpis_reporting.deployments_daily"},
            "changes": [{"path": "labels.owner", "before": None, "after": "someone"}],
        }
    ]
    assert (shape["add"], shape["change"], shape["destroy"]) == (0, 1, 2)
    entry = next(e for e in shape["resource_changes"] if e["action"] == "update")
    assert entry == {
        "address": "module.table_kpis_reporting--deployments_daily.localcloud_table.this",
        "action": "update",
        "dsl": {"kind": "table", "name": "kpis_reporting.deployments_daily"},
        "changes": [
            {"path": "labels.gdpr_personal_data", "before": "0", "after": "1"},
            {"path": "labels.owner", "before": "someone", "after": None},
            {"path": "schema.deploys.description", "before": "(none)", "after": "successful deploys"},
            {"path": "schema.team", "before": None, "after": "STRING NULLABLE"},
        ],
    }
    assert {w["kind"] for w in shape["warnings"]} == {"data_loss", "iam_removed", "drift"}


def test_replaced_table_says_why(dsl_workspace, localcloud) -> None:
    ws = dsl_workspace
    ws.write(MAIN, {"daily.json": DAILY, "archive.json": ARCHIVE})
    ws.apply()
    localcloud.client().query(PROJECT, "kpis_reporting", "INSERT INTO deployments_daily (dt) VALUES ('2024-01-01')")
    partitioned = MAIN.replace(
        "              gdpr_labels: *GDPR\n",
        "              gdpr_labels: *GDPR\n              time_partitioning: {type: DAY, field: dt}\n",
    )
    ws.write(partitioned, {"daily.json": DAILY, "archive.json": ARCHIVE})
    plan = readable_plan(ws.plan_json(), sources=ws.sources, row_counts=services.table_row_count)

    assert (plan.add, plan.change, plan.destroy) == (1, 0, 1) and plan.replaces_anything
    (daily,) = plan.resource_changes
    assert daily.action == "replace"
    assert daily.replace_reason == "`time_partitioning` cannot be changed in place"
    assert [w.message for w in plan.warnings] == [
        "table `kpis_reporting.deployments_daily` will be replaced (destroyed, then created empty) while holding "
        "1 row: they are lost"
    ]


def test_no_changes(dsl_workspace) -> None:
    dsl_workspace.write(MAIN, {"daily.json": DAILY, "archive.json": ARCHIVE})
    dsl_workspace.apply()
    plan = readable_plan(dsl_workspace.plan_json(), sources=dsl_workspace.sources)
    assert plan.headline == "No changes" and not plan.resource_changes and not plan.warnings
    assert api_shape(plan) == {
        "add": 0,
        "change": 0,
        "destroy": 0,
        "refresh_only": False,
        "resource_changes": [],
        "drift": [],
        "warnings": [],
    }
