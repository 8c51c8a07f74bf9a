"""The project_iam_member module against the local cloud with the real Terraform CLI, offline."""

import json

import pytest

from tests.localcloud_fixtures import localcloud_cli

pytestmark = pytest.mark.terraform

CONFIG = """
module "composer_user_data" {
  source     = "../../modules/local/project_iam_member"
  project_id = "sc-1-msc-dev"
  role       = "roles/composer.user"
  member     = "group:data-engine@groups.example.com"
}

module "composer_user_kpis" {
  source     = "../../modules/local/project_iam_member"
  project_id = "sc-1-msc-dev"
  role       = "roles/composer.user"
  member     = "group:kpis@groups.example.com"
}

output "id" {
  value = module.composer_user_data.id
}
"""


def grants(ws) -> list[str]:
    resources = localcloud_cli("--url", ws.cloud.url, "list", "--project", "sc-1-msc-dev")
    return sorted(r["attributes"]["member"] for r in resources if r["type"] == "iam_member")


def test_grants_add_up_and_go_one_at_a_time(workspace):
    workspace.write(CONFIG)
    workspace.init()
    workspace.apply()
    assert grants(workspace) == ["group:data-engine@groups.example.com", "group:kpis@groups.example.com"]
    code, out = workspace.plan()
    assert code == 0, f"second plan is not empty:\n{out}"
    outputs = json.loads(workspace.run("output", "-json").stdout)
    assert outputs["id"]["value"] == "projects/sc-1-msc-dev roles/composer.user group:data-engine@groups.example.com"
    # Removing one member's grant leaves the other.
    workspace.write(CONFIG.split('module "composer_user_kpis"')[0])
    workspace.apply()
    assert grants(workspace) == ["group:data-engine@groups.example.com"]
    workspace.destroy()
    assert grants(workspace) == []


def test_bad_input_is_refused_at_plan(workspace):
    workspace.write(CONFIG.replace("group:kpis@groups.example.com", "kpis-team"))
    workspace.init()
    out = workspace.fails("plan")
    assert "The member is group:<email>, user:<email> or serviceAccount:<email>." in out
