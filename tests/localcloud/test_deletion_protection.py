"""The local cloud refuses to delete a table protected from deletion, by every route but the
operator's break-glass delete; the flag is kept with the table and changed in place."""

import json

import pytest

from localcloud import bigquery, inventory
from localcloud.errors import Conflict, InvalidValue
from localcloud.store import Store

P = "sc-123-example-dev"
SCHEMA = json.dumps([{"name": "dt", "type": "DATE"}, {"name": "n", "type": "INT64"}])
REFUSED = (
    f"FAILED_PRECONDITION: table {P}:kpis.t is protected from deletion (deletion_protection is true), so it "
    "was not deleted and its rows are kept. To remove it on purpose: set deletion_protection: false on the "
    "table (deletion_protection = false in Terraform), deploy that, then remove the table."
)


def make_table(store: Store, **spec) -> dict:
    bigquery.create_dataset(store, P, "kpis")
    table = bigquery.create_table(store, P, "kpis", "t", {"schema": SCHEMA, **spec})
    with bigquery.dataset_db(store, P, "kpis", write=True) as db:
        db.execute("INSERT INTO t VALUES ('2024-01-01', 1)")
    return table


def test_a_table_is_protected_by_default_and_its_delete_is_refused(store: Store) -> None:
    assert make_table(store)["deletion_protection"] is True
    with pytest.raises(Conflict) as refused:
        bigquery.delete_table(store, P, "kpis", "t")
    assert str(refused.value) == REFUSED and refused.value.field == "deletion_protection"
    assert refused.value.code == "FAILED_PRECONDITION"
    assert bigquery.get_table(store, P, "kpis", "t") is not None
    with bigquery.dataset_db(store, P, "kpis", write=False) as db:
        assert db.execute("SELECT n FROM t").fetchall() == [(1,)]


def test_unprotecting_is_an_update_that_keeps_the_rows_then_the_delete_works(store: Store) -> None:
    make_table(store)
    table = bigquery.update_table(store, P, "kpis", "t", {"schema": SCHEMA, "deletion_protection": False})
    assert table["deletion_protection"] is False
    with bigquery.dataset_db(store, P, "kpis", write=False) as db:
        assert db.execute("SELECT n FROM t").fetchall() == [(1,)]
    bigquery.delete_table(store, P, "kpis", "t")
    assert bigquery.get_table(store, P, "kpis", "t") is None


def test_a_dataset_holding_a_protected_table_is_not_deleted_with_its_contents(store: Store) -> None:
    make_table(store)
    with pytest.raises(Conflict, match=r"dataset sc-123-example-dev:kpis holds tables protected from deletion \(t\)"):
        bigquery.delete_dataset(store, P, "kpis", delete_contents=True)
    assert bigquery.get_table(store, P, "kpis", "t") is not None
    bigquery.update_table(store, P, "kpis", "t", {"schema": SCHEMA, "deletion_protection": False})
    bigquery.delete_dataset(store, P, "kpis", delete_contents=True)
    assert bigquery.get_dataset(store, P, "kpis") is None


def test_the_operators_delete_outside_terraform_removes_it_anyway(store: Store) -> None:
    make_table(store)
    record = inventory.find(store, P, "table", "kpis.t")
    with pytest.raises(Conflict, match="protected from deletion"):
        inventory.delete(store, record, force=False)
    inventory.delete(store, record)
    assert bigquery.get_table(store, P, "kpis", "t") is None


def test_a_table_stored_before_the_flag_existed_reads_as_protected(store: Store) -> None:
    make_table(store)
    record = store.get(bigquery.TABLE, P, "kpis.t")
    record.attrs.pop("deletion_protection")
    with store.session(write=True) as conn:
        store.put(conn, bigquery.TABLE, P, "kpis.t", record.attrs)
    assert bigquery.get_table(store, P, "kpis", "t")["deletion_protection"] is True
    with pytest.raises(Conflict, match="protected from deletion"):
        bigquery.delete_table(store, P, "kpis", "t")


@pytest.mark.parametrize("value", ["false", 0, "no"])
def test_the_flag_is_a_boolean(store: Store, value) -> None:
    bigquery.create_dataset(store, P, "kpis")
    with pytest.raises(InvalidValue, match=r"deletion_protection: invalid value .*; true or false \(omitted: true\)"):
        bigquery.create_table(store, P, "kpis", "t", {"schema": SCHEMA, "deletion_protection": value})


def test_over_the_api_a_run_cannot_delete_it_by_any_route(localcloud) -> None:
    operator = localcloud.client()
    operator.create_dataset(P, "kpis")
    operator.create_table(P, "kpis", "t", {"schema": SCHEMA})
    run = localcloud.client(operator.mint_token("run 7", [P], 600)["token"])
    for attempt in (
        lambda: run.delete_table(P, "kpis", "t"),
        lambda: run.delete(P, "table", "kpis.t"),
        lambda: run.delete_dataset(P, "kpis", True),
        lambda: run.delete(P, "dataset", "kpis"),
        lambda: operator.delete_table(P, "kpis", "t"),  # Terraform's route refuses the operator too
    ):
        with pytest.raises(Conflict, match=r"FAILED_PRECONDITION: .* protected from deletion"):
            attempt()
    assert operator.get_table(P, "kpis", "t")["deletion_protection"] is True
    operator.delete(P, "table", "kpis.t")  # the operator's break-glass delete
    assert operator.get_table(P, "kpis", "t") is None
