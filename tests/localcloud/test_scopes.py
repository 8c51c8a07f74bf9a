"""A scoped token reads and changes only its own projects; a refusal writes nothing."""

import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from localcloud.errors import AlreadyExists, PermissionDenied

MINE, VICTIM = "sc-123-example-dev", "sc-2-victim-prod"
DENIED = f"PERMISSION_DENIED: run 12 may change {MINE} only, not {VICTIM}"
SCHEMA = '[{"name": "id", "type": "STRING"}]'
IMAGE = {"image_version": "composer-2.9.7-airflow-2.9.3"}


@pytest.fixture
def victim(localcloud):
    """Another team's project, made by the operator: a dataset with a table, an account, a bucket, grants."""
    api = localcloud.client()
    api.create_dataset(VICTIM, "finance", labels={"team": "victims"})
    api.create_table(VICTIM, "finance", "ledger", {"schema": SCHEMA})
    api.create_service_account(VICTIM, "payer-account")
    api.create_bucket(VICTIM, "victim-exports")
    api.create_environment(VICTIM, "victim-airflow", IMAGE)
    api.add_member(f"projects/{VICTIM}", "roles/composer.user", "group:victims@example.com")
    api.set_binding("buckets/victim-exports", "roles/storage.objectViewer", ["group:victims@example.com"])
    return api


@pytest.fixture
def run12(localcloud):
    minted = localcloud.client().mint_token("run 12", [MINE], 600)
    return localcloud.client(minted["token"])


def snapshot(localcloud) -> tuple[object, list[str]]:
    """What the operator sees, and every file under the store's projects/."""
    api = localcloud.client()
    listing = {project: api.list_resources(project) for project in api.projects()}
    files = sorted(str(p.relative_to(localcloud.root)) for p in (Path(localcloud.root) / "projects").rglob("*"))
    return listing, files


EMAIL = f"payer-account@{VICTIM}.iam.gserviceaccount.com"
BINDING = "buckets/victim-exports roles/storage.objectViewer"
ATTEMPTS = {
    # reads
    "get dataset": lambda c: c.get_dataset(VICTIM, "finance"),
    "get table": lambda c: c.get_table(VICTIM, "finance", "ledger"),
    "get service account": lambda c: c.get_service_account(VICTIM, "payer-account"),
    "get bucket": lambda c: c.get_bucket("victim-exports"),
    "get environment": lambda c: c.get_environment(VICTIM, "victim-airflow"),
    "get binding": lambda c: c.get_binding(BINDING),
    "get member": lambda c: c.get_member(f"projects/{VICTIM} roles/composer.user group:victims@example.com"),
    "list": lambda c: c.list_resources(VICTIM),
    "show": lambda c: c.show(VICTIM, "dataset", "finance"),
    # creates
    "create dataset": lambda c: c.create_dataset(VICTIM, "stolen"),
    "create table": lambda c: c.create_table(VICTIM, "finance", "stolen", {"schema": SCHEMA}),
    "create service account": lambda c: c.create_service_account(VICTIM, "intruder"),
    "create bucket": lambda c: c.create_bucket(VICTIM, "stolen-bucket"),
    "create environment": lambda c: c.create_environment(VICTIM, "stolen-airflow", IMAGE),
    "grant on the project": lambda c: c.add_member(f"projects/{VICTIM}", "roles/owner", "user:mallory@example.com"),
    "grant on the account": lambda c: c.set_binding(
        f"projects/{VICTIM}/serviceAccounts/{EMAIL}", "roles/iam.serviceAccountTokenCreator", ["user:m@example.com"]
    ),
    "grant on the bucket": lambda c: c.add_member(
        "buckets/victim-exports", "roles/storage.admin", "user:m@example.com"
    ),
    # updates
    "update dataset": lambda c: c.update_dataset(VICTIM, "finance", description="mine now", labels={}),
    "update table": lambda c: c.update_table(
        VICTIM, "finance", "ledger", {"schema": '[{"name": "x", "type": "INT64"}]'}
    ),
    "update service account": lambda c: c.update_service_account(VICTIM, "payer-account", display_name="x"),
    "update bucket": lambda c: c.update_bucket("victim-exports", labels={"owner": "mallory"}),
    "update environment": lambda c: c.update_environment(
        VICTIM, "victim-airflow", IMAGE | {"env_variables": {"A": "1"}}
    ),
    "set labels": lambda c: c.set_labels(VICTIM, "dataset", "finance", {"team": "mallory"}),
    "drop column": lambda c: c.drop_column(VICTIM, "finance", "ledger", "id"),
    # deletes
    "delete dataset": lambda c: c.delete_dataset(VICTIM, "finance", delete_contents=True),
    "delete table": lambda c: c.delete_table(VICTIM, "finance", "ledger"),
    "delete service account": lambda c: c.delete_service_account(VICTIM, "payer-account"),
    "delete bucket": lambda c: c.delete_bucket("victim-exports", force=True),
    "delete environment": lambda c: c.delete_environment(VICTIM, "victim-airflow"),
    "delete binding": lambda c: c.delete_binding(BINDING),
    "delete member": lambda c: c.remove_member(f"projects/{VICTIM} roles/composer.user group:victims@example.com"),
    "operator delete": lambda c: c.delete(VICTIM, "bucket", "victim-exports"),
}


@pytest.mark.parametrize("attempt", sorted(ATTEMPTS))
def test_another_projects_resources_are_out_of_reach(localcloud, victim, run12, attempt) -> None:
    before = snapshot(localcloud)
    with pytest.raises(PermissionDenied) as refused:
        ATTEMPTS[attempt](run12)
    assert refused.value.message == DENIED
    assert snapshot(localcloud) == before, "a refused call changed the local cloud"


def test_own_project_works_and_listing_shows_only_it(localcloud, victim, run12) -> None:
    run12.create_dataset(MINE, "kpis")
    run12.create_table(MINE, "kpis", "t", {"schema": SCHEMA})
    account = run12.create_service_account(MINE, "compute")
    # A grant on my own account for someone of another project is mine to give.
    run12.add_member(
        f"projects/{MINE}/serviceAccounts/{account['email']}", "roles/iam.serviceAccountTokenCreator",
        f"serviceAccount:{EMAIL}",
    )  # fmt: skip
    assert run12.projects() == [MINE]
    assert sorted(localcloud.client().projects()) == [MINE, VICTIM]
    assert [r["type"] for r in run12.list_resources(MINE)] == ["dataset", "iam_member", "service_account", "table"]


def test_a_taken_bucket_name_does_not_reveal_its_project(localcloud, victim, run12) -> None:
    with pytest.raises(AlreadyExists) as taken:
        run12.create_bucket(MINE, "victim-exports")
    assert VICTIM not in taken.value.message and "already exists in another project" in taken.value.message


def test_several_projects_are_named_in_the_refusal(localcloud, victim) -> None:
    token = localcloud.client().mint_token("run 7", ["sc-1-msc-dev", MINE], 60)["token"]
    with pytest.raises(PermissionDenied) as refused:
        localcloud.client(token).create_dataset(VICTIM, "x")
    assert refused.value.message == f"PERMISSION_DENIED: run 7 may change sc-1-msc-dev, {MINE} only, not {VICTIM}"


def test_operator_only_calls(localcloud, run12) -> None:
    run12.create_dataset(MINE, "kpis")
    for call, what in (
        (lambda: run12.query(MINE, "kpis", "SELECT 1"), "run SQL"),
        (lambda: run12.mint_token("run 13", [MINE], 60), "mint tokens"),
        (lambda: run12.revoke_token("tok_x"), "revoke tokens"),
    ):
        with pytest.raises(
            PermissionDenied, match=f"PERMISSION_DENIED: run 12 may not {what}; that needs the operator token"
        ):
            call()


def test_the_http_answer_of_a_refusal(localcloud, run12) -> None:
    """The wire format: 403 and {"error": {"code", "message", "field"}}."""
    address = urlsplit(localcloud.url)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    conn.request("POST", f"/v1/projects/{VICTIM}/datasets", body=json.dumps({"dataset_id": "x"}),
                 headers={"Authorization": f"Bearer {run12.token}", "Content-Type": "application/json"})  # fmt: skip
    response = conn.getresponse()
    assert response.status == 403
    assert json.loads(response.read()) == {"error": {"code": "PERMISSION_DENIED", "field": None, "message": DENIED}}
    conn.close()
