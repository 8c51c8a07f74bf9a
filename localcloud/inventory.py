"""What really exists in a project: one JSON-ready description per resource (for the CLI
and for anyone who wants to compare Terraform's state with reality)."""

from localcloud import bigquery, composer, iam, storage
from localcloud.errors import InvalidValue, NotFound
from localcloud.store import Record, Store

KINDS = ("dataset", "table", "service_account", "iam_binding", "iam_member", "bucket", "composer_environment")


def describe(store: Store, record: Record) -> dict:
    """The resource as it really is; `status` is `missing` when its record outlived the thing itself."""
    view = _view(store, record)
    entry = {"type": record.kind, "name": record.name, "project": record.project}
    if view is None:
        return entry | {"status": "missing", "attributes": record.attrs}
    entry["status"] = "present"
    if record.kind == "table":
        entry["columns"] = view.pop("fields")
    if record.kind in ("bucket", "service_account"):
        target = (
            f"buckets/{record.name}"
            if record.kind == "bucket"
            else f"projects/{record.project}/serviceAccounts/{view['email']}"
        )
        view["iam_policy"] = iam.effective_members(store, target)
    if record.kind == "bucket":
        view["objects"] = storage.object_count(store, record.project, record.name)
    entry["attributes"] = view
    return entry


def _view(store: Store, record: Record) -> dict | None:
    project, name = record.project, record.name
    if record.kind == "dataset":
        view = bigquery.get_dataset(store, project, name)
        if view is not None:
            view["tables"] = bigquery.table_names(store, project, name)
        return view
    if record.kind == "table":
        dataset_id, table_id = name.split(".", 1)
        return bigquery.get_table(store, project, dataset_id, table_id)
    if record.kind == "service_account":
        return iam.get_service_account(store, project, name)
    if record.kind == "iam_binding":
        return iam.get_binding(store, name)
    if record.kind == "iam_member":
        return iam.get_member(store, name)
    if record.kind == "bucket":
        return storage.get_bucket(store, name)
    if record.kind == "composer_environment":
        return composer.get_environment(store, project, name)
    return None


def list_project(store: Store, project: str, kind: str | None = None) -> list[dict]:
    return [describe(store, r) for r in store.records(project, kind)]


def find(store: Store, project: str, kind: str, name: str) -> Record:
    check_kind(kind)
    if kind == "service_account" and "@" in name:
        name = name.split("@")[0]
    record = store.get(kind, project, name)
    if record is None:
        names = ", ".join(r.name for r in store.records(project, kind)) or "none"
        raise NotFound(f"name: no {kind} {name!r} in project {project} (there are: {names})", "name")
    return record


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidValue("type", kind, f"allowed: {', '.join(KINDS)}")
    return kind


def delete(store: Store, record: Record, *, force: bool = True) -> None:
    """Remove something outside Terraform, contents and all (what an operator's delete does).
    Without `force`, tables protected from deletion are refused (and datasets holding them)."""
    project, name = record.project, record.name
    if record.kind == "dataset":
        bigquery.delete_dataset(store, project, name, delete_contents=True, force=force)
    elif record.kind == "table":
        dataset_id, table_id = name.split(".", 1)
        bigquery.delete_table(store, project, dataset_id, table_id, force=force)
    elif record.kind == "service_account":
        iam.delete_service_account(store, project, name)
    elif record.kind == "iam_binding":
        iam.delete_binding(store, name)
    elif record.kind == "iam_member":
        iam.remove_member(store, name)
    elif record.kind == "bucket":
        storage.delete_bucket(store, name, force=True)
    elif record.kind == "composer_environment":
        composer.delete_environment(store, project, name)


LABELLED = ("dataset", "table", "bucket", "composer_environment")


def set_labels(store: Store, record: Record, changes: dict[str, str | None]) -> dict:
    """Set (value) or remove (None) labels, straight in the control plane."""
    if record.kind not in LABELLED:
        raise InvalidValue("type", record.kind, f"labels exist on: {', '.join(LABELLED)}")
    labels = dict(record.attrs.get("labels") or {})
    for key, value in changes.items():
        if value is None:
            labels.pop(key, None)
        else:
            labels[key] = value
    from localcloud import validation

    record.attrs["labels"] = validation.labels(labels)
    with store.session(write=True) as conn:
        store.put(conn, record.kind, record.project, record.name, record.attrs)
    return record.attrs["labels"]
