"""Two Terraform processes on different projects of one local cloud service at the same time."""

import subprocess

import pytest

pytestmark = pytest.mark.terraform


def config(project: str) -> str:
    tables = "\n".join(
        f"""
resource "localcloud_table" "t{i}" {{
  project    = "{project}"
  dataset_id = localcloud_dataset.d.dataset_id
  table_id   = "t{i}"
  schema     = jsonencode([{{ name = "id", type = "STRING" }}, {{ name = "n", type = "INT64" }}])
}}
"""
        for i in range(8)
    )
    return f"""
resource "localcloud_dataset" "d" {{
  project    = "{project}"
  dataset_id = "shared_name"
}}

resource "localcloud_service_account" "sa" {{
  count      = 6
  project    = "{project}"
  account_id = "worker-${{count.index}}"
}}
{tables}"""


def test_parallel_applies_on_two_projects(make_workspace, localcloud) -> None:
    workspaces = [make_workspace(p) for p in ("sc-1-alpha-dev", "sc-2-beta-dev")]
    for ws, project in zip(workspaces, ("sc-1-alpha-dev", "sc-2-beta-dev"), strict=True):
        ws.write(config(project))
        ws.init()
    procs = [
        subprocess.Popen(
            [ws.tools.binary, "apply", "-auto-approve", "-no-color"],
            cwd=ws.dir,
            env=ws.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for ws in workspaces
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n".join(outputs)
    api = localcloud.client()
    for project in ("sc-1-alpha-dev", "sc-2-beta-dev"):
        kinds = sorted(r["type"] for r in api.list_resources(project))
        assert kinds == ["dataset"] + ["service_account"] * 6 + ["table"] * 8
    for ws in workspaces:
        assert ws.plan()[0] == 0
