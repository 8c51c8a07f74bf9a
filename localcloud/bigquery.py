"""Datasets and tables. A dataset is one SQLite database file; a table is a real table in it.

The control plane keeps what SQLite cannot (descriptions, labels, nested RECORD fields,
partitioning); the columns themselves are read from SQLite, so a column dropped outside
Terraform is reported as missing.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from localcloud import bq_schema, validation
from localcloud.bq_schema import quote
from localcloud.errors import AlreadyExists, Conflict, InvalidValue, NotFound
from localcloud.store import Store, connect_sqlite, enable_wal, transaction

DATASET = "dataset"
TABLE = "table"
# Tables stored before deletion protection existed have no flag: they read as protected (the safe
# side). Turning protection off is an explicit update, like a new table's default.
DEFAULT_DELETION_PROTECTION = True


def protection_refusal(project: str, dataset_id: str, table_id: str) -> Conflict:
    """FAILED_PRECONDITION for deleting a protected table, saying how to remove it on purpose."""
    return Conflict(
        f"FAILED_PRECONDITION: table {project}:{dataset_id}.{table_id} is protected from deletion "
        "(deletion_protection is true), so it was not deleted and its rows are kept. To remove it on purpose: "
        "set deletion_protection: false on the table (deletion_protection = false in Terraform), deploy that, "
        "then remove the table.",
        "deletion_protection",
    )


def is_protected(store: Store, project: str, dataset_id: str, table_id: str) -> bool:
    record = store.get(TABLE, project, f"{dataset_id}.{table_id}")
    if record is None:
        return DEFAULT_DELETION_PROTECTION
    return bool(record.attrs.get("deletion_protection", DEFAULT_DELETION_PROTECTION))


def dataset_path(store: Store, project: str, dataset_id: str) -> Path:
    validation.dataset_id(dataset_id)
    return store.project_dir(project) / "bigquery" / f"{dataset_id}.sqlite3"


@contextmanager
def dataset_db(store: Store, project: str, dataset_id: str, write: bool) -> Iterator[sqlite3.Connection]:
    path = dataset_path(store, project, dataset_id)
    if not path.exists():
        raise NotFound(f"dataset_id: dataset {project}:{dataset_id} does not exist", "dataset_id")
    conn = connect_sqlite(path)
    try:
        with transaction(conn, write):
            yield conn
    finally:
        conn.close()


# -- datasets -------------------------------------------------------------------
def get_dataset(store: Store, project: str, dataset_id: str) -> dict | None:
    record = store.get(DATASET, project, dataset_id)
    if record is None or not dataset_path(store, project, dataset_id).exists():
        return None
    return {"project": project, "dataset_id": dataset_id, **record.attrs}


def create_dataset(
    store: Store, project: str, dataset_id: str, description: str = "", location: str = "EU", labels: dict | None = None
) -> dict:
    validation.project_id(project)
    validation.location(location)
    attrs = {"description": description or "", "location": location, "labels": validation.labels(labels)}
    path = dataset_path(store, project, dataset_id)
    with store.session(write=True) as conn:
        if store.get(DATASET, project, dataset_id, conn) and path.exists():
            raise AlreadyExists(
                f"dataset_id: dataset {project}:{dataset_id} already exists; import it with "
                f"terraform import <address> projects/{project}/datasets/{dataset_id}",
                "dataset_id",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        enable_wal(path)  # creates the database file
        store.put(conn, DATASET, project, dataset_id, attrs)
    return {"project": project, "dataset_id": dataset_id, **attrs}


def update_dataset(store: Store, project: str, dataset_id: str, description: str, labels: dict | None) -> dict:
    attrs_labels = validation.labels(labels)
    with store.session(write=True) as conn:
        record = store.get(DATASET, project, dataset_id, conn)
        if record is None or not dataset_path(store, project, dataset_id).exists():
            raise NotFound(f"dataset_id: dataset {project}:{dataset_id} does not exist", "dataset_id")
        record.attrs.update(description=description or "", labels=attrs_labels)
        store.put(conn, DATASET, project, dataset_id, record.attrs)
    return {"project": project, "dataset_id": dataset_id, **record.attrs}


def table_names(store: Store, project: str, dataset_id: str) -> list[str]:
    if not dataset_path(store, project, dataset_id).exists():
        return []
    with dataset_db(store, project, dataset_id, write=False) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    return [name for (name,) in rows]


def delete_dataset(
    store: Store, project: str, dataset_id: str, delete_contents: bool = False, *, force: bool = False
) -> None:
    """Delete a dataset; with `delete_contents` its tables too, unless one of them is protected from
    deletion (`force`: the operator's delete outside Terraform, which removes everything)."""
    path = dataset_path(store, project, dataset_id)
    tables = table_names(store, project, dataset_id)
    if tables and not delete_contents:
        raise Conflict(
            f"dataset_id: dataset {project}:{dataset_id} still contains tables ({', '.join(tables)}); "
            "delete them first or set delete_contents_on_destroy = true",
            "dataset_id",
        )
    protected = [t for t in tables if is_protected(store, project, dataset_id, t)]
    if protected and not force:
        raise Conflict(
            f"FAILED_PRECONDITION: dataset {project}:{dataset_id} holds tables protected from deletion "
            f"({', '.join(protected)}), so it was not deleted. To remove them on purpose: set "
            "deletion_protection: false on those tables (deletion_protection = false in Terraform), deploy that, "
            "then remove them.",
            "dataset_id",
        )
    with store.session(write=True) as conn:
        for table in tables:
            store.remove(conn, TABLE, project, f"{dataset_id}.{table}")
        store.remove(conn, DATASET, project, dataset_id)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


# -- tables ---------------------------------------------------------------------
def _require_dataset(store: Store, project: str, dataset_id: str) -> None:
    if get_dataset(store, project, dataset_id) is None:
        raise NotFound(
            f"dataset_id: dataset {project}:{dataset_id} does not exist; create it first "
            "(the table module needs a dataset module or localcloud_dataset in the same project)",
            "dataset_id",
        )


def _table_exists(db: sqlite3.Connection, table_id: str) -> bool:
    return (
        db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table_id,)).fetchone() is not None
    )


def _create_physical(db: sqlite3.Connection, name: str, fields: list[dict], partitioning: dict | None) -> None:
    columns = [bq_schema.column_ddl(c) for c in fields]
    if partitioning and not partitioning.get("field"):
        # Ingestion-time partitioning: BigQuery's pseudo-column, filled in on insert.
        columns.append(f"{quote(bq_schema.INGESTION_TIME_COLUMN)} TIMESTAMP TEXT DEFAULT CURRENT_TIMESTAMP")
    db.execute(f"CREATE TABLE {quote(name)} ({', '.join(columns)})")


def _create_indexes(db: sqlite3.Connection, table_id: str, partitioning: dict | None, clustering: list[str]) -> None:
    # Partitioning and clustering become indexes: the closest thing SQLite has.
    db.execute(f"DROP INDEX IF EXISTS {quote(table_id + '__partition')}")
    db.execute(f"DROP INDEX IF EXISTS {quote(table_id + '__cluster')}")
    if partitioning:
        column = partitioning.get("field") or bq_schema.INGESTION_TIME_COLUMN
        db.execute(f"CREATE INDEX {quote(table_id + '__partition')} ON {quote(table_id)} ({quote(column)})")
    if clustering:
        cols = ", ".join(quote(c) for c in clustering)
        db.execute(f"CREATE INDEX {quote(table_id + '__cluster')} ON {quote(table_id)} ({cols})")


def real_columns(db: sqlite3.Connection, table_id: str) -> list[tuple[str, str, bool]]:
    rows = db.execute(f"PRAGMA table_info({quote(table_id)})").fetchall()
    return [(name, declared, bool(notnull)) for _, name, declared, notnull, _, _ in rows]


def _fields_from_reality(real: list[tuple[str, str, bool]], known: list[dict]) -> list[dict]:
    """Columns as they really are; descriptions and nested fields from metadata where still true."""
    by_name = {c["name"]: c for c in known}
    fields = []
    for name, declared, not_null in real:
        if name == bq_schema.INGESTION_TIME_COLUMN:
            continue
        seen = bq_schema.column_from_sqlite(name, declared, not_null)
        meta = by_name.get(name)
        if meta and meta["type"] == seen["type"] and meta["mode"] == seen["mode"]:
            fields.append(meta)
        else:
            fields.append(seen)
    return fields


def get_table(store: Store, project: str, dataset_id: str, table_id: str) -> dict | None:
    if get_dataset(store, project, dataset_id) is None:
        return None
    record = store.get(TABLE, project, f"{dataset_id}.{table_id}")
    with dataset_db(store, project, dataset_id, write=False) as db:
        if not _table_exists(db, table_id):
            return None
        real = real_columns(db, table_id)
        (num_rows,) = db.execute(f"SELECT COUNT(*) FROM {quote(table_id)}").fetchone()
    attrs = record.attrs if record else {"description": "", "fields": [], "labels": {}}
    return {
        "project": project,
        "dataset_id": dataset_id,
        "table_id": table_id,
        "description": attrs.get("description", ""),
        "fields": _fields_from_reality(real, attrs.get("fields", [])),
        "labels": attrs.get("labels", {}),
        "time_partitioning": attrs.get("time_partitioning"),
        "clustering": attrs.get("clustering", []),
        "num_rows": num_rows,  # as BigQuery's tables.get reports it: what a destroy would lose
        "deletion_protection": bool(attrs.get("deletion_protection", DEFAULT_DELETION_PROTECTION)),
    }


def _deletion_protection(value: object) -> bool:
    if value is None:
        return DEFAULT_DELETION_PROTECTION
    if not isinstance(value, bool):
        raise InvalidValue("deletion_protection", value, "true or false (omitted: true)")
    return value


def _table_attrs(spec: dict) -> dict:
    fields = bq_schema.parse_schema(spec["schema"])
    return {
        "description": spec.get("description") or "",
        "fields": fields,
        "labels": validation.labels(spec.get("labels")),
        "time_partitioning": bq_schema.validate_partitioning(spec.get("time_partitioning"), fields),
        "clustering": bq_schema.validate_clustering(spec.get("clustering"), fields),
        "deletion_protection": _deletion_protection(spec.get("deletion_protection")),
    }


def create_table(store: Store, project: str, dataset_id: str, table_id: str, spec: dict) -> dict:
    """spec: schema (JSON text or list), description, labels, time_partitioning, clustering,
    deletion_protection (omitted: true)."""
    validation.table_id(table_id)
    attrs = _table_attrs(spec)
    _require_dataset(store, project, dataset_id)
    with dataset_db(store, project, dataset_id, write=True) as db:
        if _table_exists(db, table_id):
            raise AlreadyExists(
                f"table_id: table {project}:{dataset_id}.{table_id} already exists; import it with terraform import "
                f"<address> projects/{project}/datasets/{dataset_id}/tables/{table_id}",
                "table_id",
            )
        _create_physical(db, table_id, attrs["fields"], attrs["time_partitioning"])
        _create_indexes(db, table_id, attrs["time_partitioning"], attrs["clustering"])
        with store.session(write=True) as conn:
            store.put(conn, TABLE, project, f"{dataset_id}.{table_id}", attrs)
    return get_table(store, project, dataset_id, table_id) or {}


def update_table(store: Store, project: str, dataset_id: str, table_id: str, spec: dict) -> dict:
    attrs = _table_attrs(spec)
    _require_dataset(store, project, dataset_id)
    with dataset_db(store, project, dataset_id, write=True) as db:
        if not _table_exists(db, table_id):
            raise NotFound(f"table_id: table {project}:{dataset_id}.{table_id} does not exist", "table_id")
        wanted = [(c["name"], bq_schema.declared_type(c), c["mode"] == "REQUIRED") for c in attrs["fields"]]
        real = [c for c in real_columns(db, table_id) if c[0] != bq_schema.INGESTION_TIME_COLUMN]
        if wanted != real:
            _rebuild(db, table_id, attrs)
        _create_indexes(db, table_id, attrs["time_partitioning"], attrs["clustering"])
        with store.session(write=True) as conn:
            store.put(conn, TABLE, project, f"{dataset_id}.{table_id}", attrs)
    return get_table(store, project, dataset_id, table_id) or {}


def _rebuild(db: sqlite3.Connection, table_id: str, attrs: dict) -> None:
    """Change columns the SQLite way: a new table, the data of the columns both share, a rename."""
    staging = f"{table_id}__rebuild"
    old = {name for name, _, _ in real_columns(db, table_id)}
    _create_physical(db, staging, attrs["fields"], attrs["time_partitioning"])
    new = [name for name, _, _ in real_columns(db, staging)]
    shared = ", ".join(quote(n) for n in new if n in old)
    try:
        if shared:
            db.execute(f"INSERT INTO {quote(staging)} ({shared}) SELECT {shared} FROM {quote(table_id)}")
    except sqlite3.IntegrityError as exc:
        raise Conflict(
            f"schema: cannot change table {table_id}: existing rows do not fit the new schema ({exc}); "
            "a REQUIRED column cannot be added to a table that has rows",
            "schema",
        ) from exc
    db.execute(f"DROP TABLE {quote(table_id)}")
    db.execute(f"ALTER TABLE {quote(staging)} RENAME TO {quote(table_id)}")


def delete_table(store: Store, project: str, dataset_id: str, table_id: str, *, force: bool = False) -> None:
    """Delete a table, unless it is protected from deletion (`force`: the operator's delete outside
    Terraform). A table that is not there is not refused: there is nothing to protect."""
    exists = get_table(store, project, dataset_id, table_id) is not None
    if exists and not force and is_protected(store, project, dataset_id, table_id):
        raise protection_refusal(project, dataset_id, table_id)
    if dataset_path(store, project, dataset_id).exists():
        with dataset_db(store, project, dataset_id, write=True) as db:
            db.execute(f"DROP TABLE IF EXISTS {quote(table_id)}")
    with store.session(write=True) as conn:
        store.remove(conn, TABLE, project, f"{dataset_id}.{table_id}")


def drop_column(store: Store, project: str, dataset_id: str, table_id: str, column: str) -> None:
    """An operator's change outside Terraform (to demonstrate drift)."""
    with dataset_db(store, project, dataset_id, write=True) as db:
        names = [name for name, _, _ in real_columns(db, table_id)]
        if column not in names:
            raise InvalidValue("column", column, f"table {dataset_id}.{table_id} has columns {', '.join(names)}")
        db.execute(f"DROP INDEX IF EXISTS {quote(table_id + '__partition')}")
        db.execute(f"DROP INDEX IF EXISTS {quote(table_id + '__cluster')}")
        db.execute(f"ALTER TABLE {quote(table_id)} DROP COLUMN {quote(column)}")
