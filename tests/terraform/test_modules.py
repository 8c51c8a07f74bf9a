"""Every module: init (offline), plan, apply, plan again without changes, destroy."""

import json
from pathlib import Path

import pytest

from tests.localcloud_fixtures import localcloud_cli

pytestmark = pytest.mark.terraform

PROJECT = "sc-123-example-dev"
SCHEMA = json.dumps(
    [
        {"name": "dt", "type": "DATE", "mode": "REQUIRED", "description": "partition day"},
        {"name": "user_id", "type": "INT64"},
        {"name": "tags", "type": "STRING", "mode": "REPEATED"},
        {
            "name": "meta",
            "type": "RECORD",
            "fields": [{"name": "source", "type": "STRING"}, {"name": "score", "type": "FLOAT64"}],
        },
    ],
    indent=2,
)
LOCALS = f"""
locals {{
  project_id = "{PROJECT}"
  team       = "data-team"
}}
"""
DATASET = """
module "dataset_kpis" {
  source      = "../../modules/local/dataset"
  project_id  = local.project_id
  dataset_id  = "kpis"
  description = "KPIs of the data engine"
  team        = local.team
  labels      = { cost_center = "c42" }
}
"""
CONFIGS = {
    "dataset": DATASET,
    "table": DATASET
    + """
module "table_kpis--compliance" {
  source            = "../../modules/local/table"
  project_id        = local.project_id
  dataset_id        = module.dataset_kpis.dataset_id
  table_id          = "compliance"
  description       = "Resources created according to the rules"
  schema            = file("${path.module}/../../bq_schemas/kpis/compliance.json")
  team              = local.team
  gdpr_labels       = { gdpr_pii = "false", gdpr_sensitive = "false" }
  labels            = { allegro__job_scid = "20050" }
  time_partitioning = { type = "DAY", field = "dt" }
  clustering        = ["user_id"]
  # The lifecycle ends with destroy: tables are protected unless told (test_deletion_protection.py).
  deletion_protection = false
}

module "table_kpis--events" {
  source            = "../../modules/local/table"
  project_id        = local.project_id
  dataset_id        = module.dataset_kpis.dataset_id
  table_id          = "events"
  schema            = jsonencode([{ name = "payload", type = "JSON" }])
  team              = local.team
  time_partitioning = { type = "HOUR" }

  deletion_protection = false
}
""",
    "service_account": """
module "service_account_compute" {
  source     = "../../modules/local/service_account"
  project_id = local.project_id
  account_id = "compute"
}
""",
    "impersonation": """
module "service_account_compute" {
  source     = "../../modules/local/service_account"
  project_id = local.project_id
  account_id = "compute"
}

module "service_account_scheduler" {
  source       = "../../modules/local/service_account"
  project_id   = "sc-1-shared-scheduler-dev"
  account_id   = "scheduler"
  display_name = "Shared scheduler"
}

module "impersonation_compute_by_scheduler" {
  source                = "../../modules/local/impersonation"
  service_account_email = module.service_account_compute.email
  impersonator_email    = module.service_account_scheduler.email
}

module "impersonation_compute_by_ci" {
  source                = "../../modules/local/impersonation"
  service_account_email = module.service_account_compute.email
  impersonator_email    = "ci-runner@sc-1-shared-scheduler-dev.iam.gserviceaccount.com"
}
""",
    "composer_environment": """
module "composer_main" {
  source     = "../../modules/local/composer_environment"
  project_id = local.project_id
  name       = "my-team-composer"
  team       = local.team
  airflow_config_overrides = {
    "email-email_backend"  = "airflow.utils.email.send_email_smtp"
    "smtp-smtp_host"       = "smtp.gateway.my.domain"
    "smtp-smtp_starttls"   = "False"
    "smtp-smtp_user"       = ""
  }
  pypi_packages = { jira = "==2.0.0", "google-api-core" = "==1.31.5", oauthlib = "==3.1.0" }
  env_variables = { DEPLOY_ENV = "dev" }
}

output "composer" {
  value = module.composer_main
}
""",
    "bucket_access": """
resource "localcloud_bucket" "shared" {
  project = "sc-1-shared-composer-dev"
  name    = "shared-composer-dags-dev"
}

module "bucket_access" {
  source  = "../../modules/local/bucket_access"
  bucket  = localcloud_bucket.shared.name
  prefix  = "dags/${local.project_id}/"
  members = ["group:data-team@example.com"]
}
""",
}


def localcloud(ws, *args: str) -> object:
    """The local cloud's CLI, against the server the workspace's Terraform uses."""
    return localcloud_cli("--url", ws.cloud.url, *args)


@pytest.mark.parametrize("module", sorted(CONFIGS))
def test_module_lifecycle(workspace, module: str) -> None:
    workspace.write(LOCALS + CONFIGS[module], **{"bq_schemas/kpis/compliance.json": SCHEMA})
    init = workspace.init()
    assert "hangar.local/hangar/localcloud v0.1.0" in init.stdout
    code, out = workspace.plan()
    assert code == 2 and "to add" in out
    workspace.apply()
    code, out = workspace.plan()
    assert code == 0, f"second plan is not empty:\n{out}"
    assert localcloud(workspace, "projects"), "apply created nothing in the local cloud"
    check_reality(workspace, module)
    workspace.destroy()
    assert localcloud(workspace, "projects") == [], "destroy left resources behind"


def check_reality(ws, module: str) -> None:
    """What apply made really exists, with the organisation's conventions."""
    resources = localcloud(ws, "list", "--project", PROJECT)
    by_type: dict[str, list[dict]] = {}
    for r in resources:
        by_type.setdefault(r["type"], []).append(r)
    if module == "dataset":
        (dataset,) = by_type["dataset"]
        assert dataset["attributes"]["location"] == "EU"
        assert dataset["attributes"]["labels"] == {"cost_center": "c42", "managed_by": "hangar", "team": "data-team"}
    if module == "table":
        table = next(r for r in by_type["table"] if r["name"] == "kpis.compliance")
        assert [c["name"] for c in table["columns"]] == ["dt", "user_id", "tags", "meta"]
        assert table["columns"][3]["fields"][1] == {"name": "score", "type": "FLOAT", "mode": "NULLABLE"}
        assert table["attributes"]["time_partitioning"] == {"type": "DAY", "field": "dt"}
        assert table["attributes"]["labels"]["gdpr_pii"] == "false"
        rows = localcloud(
            ws,
            "sql",
            "--project",
            PROJECT,
            "kpis",
            "INSERT INTO compliance (dt, user_id, tags) VALUES ('2024-01-01', 7, '[]') RETURNING user_id",
        )
        assert rows == [{"user_id": 7}]
    if module == "impersonation":
        (compute,) = [r for r in by_type["service_account"] if r["name"] == "compute"]
        assert compute["attributes"]["iam_policy"] == {
            "roles/iam.serviceAccountTokenCreator": [
                "serviceAccount:ci-runner@sc-1-shared-scheduler-dev.iam.gserviceaccount.com",
                "serviceAccount:scheduler@sc-1-shared-scheduler-dev.iam.gserviceaccount.com",
            ]
        }
    if module == "composer_environment":
        (env,) = by_type["composer_environment"]
        attrs = env["attributes"]
        assert attrs["airflow_config_overrides"]["smtp-smtp_host"] == "smtp.gateway.my.domain"
        assert attrs["pypi_packages"]["jira"] == "==2.0.0"
        assert attrs["service_account"] == f"my-team-composer-env@{PROJECT}.iam.gserviceaccount.com"
        assert Path(attrs["dag_path"]).is_dir()
        outputs = json.loads(ws.run("output", "-json").stdout)
        assert outputs["composer"]["value"]["dag_bucket"] == attrs["dag_bucket"]
    if module == "bucket_access":
        (bucket,) = localcloud(ws, "list", "--project", "sc-1-shared-composer-dev", "--type", "bucket")
        assert bucket["attributes"]["iam_policy"] == {
            f"roles/storage.objectAdmin on dags/{PROJECT}/": ["group:data-team@example.com"]
        }
