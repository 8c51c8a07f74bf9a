"""Buckets: real directories under ``projects/<project>/storage/<bucket>/``.

Bucket names are global, as in Cloud Storage, so a name is unique across projects.
"""

import shutil
from pathlib import Path

from localcloud import validation
from localcloud.errors import AlreadyExists, Conflict, NotFound
from localcloud.store import Store

BUCKET = "bucket"
STORAGE_CLASSES = ("STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE")


def bucket_dir(store: Store, project: str, name: str) -> Path:
    validation.bucket_name(name)
    return store.project_dir(project) / "storage" / name


def get_bucket(store: Store, name: str) -> dict | None:
    record = store.find_by_name(BUCKET, name)
    if record is None or not bucket_dir(store, record.project, name).is_dir():
        return None
    return {"project": record.project, "name": name, **record.attrs}


def _check_attrs(location: str, storage_class: str, labels: dict | None) -> dict:
    validation.location(location)
    if storage_class not in STORAGE_CLASSES:
        from localcloud.errors import InvalidValue

        raise InvalidValue("storage_class", storage_class, f"allowed: {', '.join(STORAGE_CLASSES)}")
    return {"location": location, "storage_class": storage_class, "labels": validation.labels(labels)}


def create_bucket(
    store: Store,
    project: str,
    name: str,
    location: str = "EU",
    labels: dict | None = None,
    versioning: bool = False,
    storage_class: str = "STANDARD",
    owner: str = "",
) -> dict:
    validation.project_id(project)
    attrs = _check_attrs(location, storage_class, labels) | {"versioning": bool(versioning), "owner": owner}
    path = bucket_dir(store, project, name)
    with store.session(write=True) as conn:
        existing = conn.execute("SELECT project FROM resources WHERE kind = ? AND name = ?", (BUCKET, name)).fetchone()
        if existing and (existing[0] != project or path.is_dir()):
            raise AlreadyExists(
                f"name: bucket {name} already exists (in project {existing[0]}); bucket names are global",
                "name",
            )
        path.mkdir(parents=True, exist_ok=True)
        store.put(conn, BUCKET, project, name, attrs)
    return {"project": project, "name": name, **attrs}


def update_bucket(
    store: Store, name: str, labels: dict | None, versioning: bool, storage_class: str = "STANDARD"
) -> dict:
    with store.session(write=True) as conn:
        row = conn.execute("SELECT project FROM resources WHERE kind = ? AND name = ?", (BUCKET, name)).fetchone()
        record = store.get(BUCKET, row[0], name, conn) if row else None
        if record is None or not bucket_dir(store, record.project, name).is_dir():
            raise NotFound(f"name: bucket {name} does not exist", "name")
        record.attrs.update(_check_attrs(record.attrs["location"], storage_class, labels), versioning=bool(versioning))
        store.put(conn, BUCKET, record.project, name, record.attrs)
    return {"project": record.project, "name": name, **record.attrs}


def object_count(store: Store, project: str, name: str) -> int:
    path = bucket_dir(store, project, name)
    return sum(1 for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


def delete_bucket(store: Store, name: str, force: bool = False) -> None:
    record = store.find_by_name(BUCKET, name)
    if record is None:
        return
    path = bucket_dir(store, record.project, name)
    count = object_count(store, record.project, name)
    if count and not force:
        raise Conflict(
            f"name: bucket {name} is not empty ({count} objects); empty it or set force_destroy = true", "name"
        )
    with store.session(write=True) as conn:
        store.remove(conn, BUCKET, record.project, name)
        # Bindings on a deleted bucket go with it, as in Cloud Storage.
        conn.execute(
            "DELETE FROM resources WHERE kind IN ('iam_binding', 'iam_member') AND json_extract(attrs, '$.target') = ?",
            (f"buckets/{name}",),
        )
        if path.is_dir():
            shutil.rmtree(path)
