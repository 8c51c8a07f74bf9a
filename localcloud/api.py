"""The local cloud's HTTP API, as plain functions: routing, scope checks, then the services.

``dispatch`` takes an authenticated principal, a method, a path and a JSON body and returns
(status, payload); the HTTP plumbing lives in ``localcloud.server``. Every route states which
project it acts on *before* anything is read or written, so a call outside a token's projects
is refused (403) with nothing touched. Resources are addressed as in GCP (projects/<p>/datasets/
<d>/tables/<t>, buckets/<name> since bucket names are global); IAM grants by their id, in the
query string, because ids contain spaces and slashes.
"""

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from localcloud import bigquery, composer, iam, inventory, storage, tokens, validation
from localcloud.errors import AlreadyExists, InvalidValue, NotFound, PermissionDenied
from localcloud.store import Store
from localcloud.tokens import Principal

API_PREFIX = "/v1/"


@dataclass
class Call:
    store: Store
    principal: Principal
    params: dict[str, str]
    query: dict[str, str]
    body: dict = field(default_factory=dict)

    def project(self) -> str:
        """The path's project, once the principal is allowed to act on it."""
        project = self.params["p"]
        self.principal.require(project)
        return project

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("1", "true", "yes")


Handler = Callable[[Call], tuple[int, object]]
ROUTES: list[tuple[str, tuple[str, ...], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append((method, tuple(pattern.split("/")), handler))
        return handler

    return register


def _match(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    params = {}
    for part, segment in zip(pattern, segments, strict=True):
        if part.startswith("{"):
            params[part[1:-1]] = segment
        elif part != segment:
            return None
    return params


def dispatch(store: Store, principal: Principal, method: str, path: str, query: dict, body: dict) -> tuple[int, object]:
    if not path.startswith(API_PREFIX):
        raise NotFound(f"path: {path} is not part of the local cloud API (it starts with {API_PREFIX})", "path")
    if principal.read_only and method != "GET":
        raise PermissionDenied(f"PERMISSION_DENIED: {principal.name} may only read; it may not {method} {path}")
    segments = [unquote(s) for s in path[len(API_PREFIX) :].strip("/").split("/")]
    allowed = []
    for verb, pattern, handler in ROUTES:
        params = _match(pattern, segments)
        if params is None:
            continue
        if verb == method:
            return handler(Call(store, principal, params, query, body))
        allowed.append(verb)
    if allowed:
        raise InvalidValue("method", method, f"{path} allows {', '.join(sorted(set(allowed)))}")
    raise NotFound(f"path: no such endpoint {method} {path}", "path")


def _body(call: Call, *keys: str) -> dict:
    return {k: call.body.get(k) for k in keys}


# -- tokens ----------------------------------------------------------------------------------
@route("POST", "tokens")
def token_mint(call: Call) -> tuple[int, object]:
    call.principal.require_operator("mint tokens")
    body = call.body
    return 201, tokens.mint(
        call.store,
        body.get("principal"),
        body.get("projects"),
        body.get("ttl_seconds", 3600),
        body.get("read_only", False),
    )


@route("GET", "tokens")
def token_list(call: Call) -> tuple[int, object]:
    call.principal.require_operator("list tokens")
    return 200, tokens.active(call.store)


@route("DELETE", "tokens/{id}")
def token_revoke(call: Call) -> tuple[int, object]:
    call.principal.require_operator("revoke tokens")
    return 200, tokens.revoke(call.store, call.params["id"])


@route("GET", "token")
def token_self(call: Call) -> tuple[int, object]:
    """Who am I: lets a run (or its operator) see what its token allows."""
    p = call.principal
    return 200, {"principal": p.name, "projects": None if p.is_operator else list(p.projects or ())}


# -- inventory (the operator's tool; a scoped token sees its own projects) ------------------------
@route("GET", "projects")
def projects(call: Call) -> tuple[int, object]:
    return 200, sorted({r.project for r in call.store.records() if call.principal.may(r.project)})


@route("GET", "projects/{p}/resources")
def resources_list(call: Call) -> tuple[int, object]:
    kind = call.query.get("type") or None
    if kind:
        inventory.check_kind(kind)
    return 200, inventory.list_project(call.store, call.project(), kind)


@route("GET", "projects/{p}/resources/{kind}/{name}")
def resource_show(call: Call) -> tuple[int, object]:
    project = call.project()
    return 200, inventory.describe(
        call.store, inventory.find(call.store, project, call.params["kind"], call.params["name"])
    )


@route("DELETE", "projects/{p}/resources/{kind}/{name}")
def resource_delete(call: Call) -> tuple[int, object]:
    record = inventory.find(call.store, call.project(), call.params["kind"], call.params["name"])
    # The operator's delete removes anything (its break-glass tool); a scoped token (a run) cannot
    # remove a table protected from deletion by this route either.
    inventory.delete(call.store, record, force=call.principal.is_operator)
    return 200, {"deleted": {"type": record.kind, "name": record.name, "project": record.project}}


@route("POST", "projects/{p}/resources/{kind}/{name}/labels")
def resource_labels(call: Call) -> tuple[int, object]:
    record = inventory.find(call.store, call.project(), call.params["kind"], call.params["name"])
    changes = call.body.get("labels")
    if not isinstance(changes, dict):
        raise InvalidValue("labels", changes, "an object of label → value (null removes the label)")
    return 200, {"labels": inventory.set_labels(call.store, record, changes)}


@route("POST", "projects/{p}/datasets/{d}/query")
def dataset_query(call: Call) -> tuple[int, object]:
    # SQLite can ATTACH any file the server can read: raw SQL is for the operator only.
    call.principal.require_operator("run SQL")
    statement = call.body.get("sql")
    if not isinstance(statement, str) or not statement.strip():
        raise InvalidValue("sql", statement, "one SQL statement")
    try:
        with bigquery.dataset_db(call.store, call.project(), call.params["d"], write=True) as db:
            cursor = db.execute(statement)
            names = [d[0] for d in cursor.description or []]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except sqlite3.Error as error:
        raise InvalidValue("sql", statement, f"SQLite refused it: {error}") from None
    return 200, rows


@route("POST", "projects/{p}/datasets/{d}/tables/{t}/drop-column")
def table_drop_column(call: Call) -> tuple[int, object]:
    project, dataset_id, table_id = call.project(), call.params["d"], call.params["t"]
    bigquery.drop_column(call.store, project, dataset_id, table_id, str(call.body.get("column") or ""))
    return 200, bigquery.get_table(call.store, project, dataset_id, table_id)


# -- datasets and tables ---------------------------------------------------------------------
def _found(view: dict | None, what: str) -> tuple[int, object]:
    if view is None:
        raise NotFound(f"{what} does not exist")
    return 200, view


@route("POST", "projects/{p}/datasets")
def dataset_create(call: Call) -> tuple[int, object]:
    b = call.body
    view = bigquery.create_dataset(
        call.store, call.project(), str(b.get("dataset_id") or ""), b.get("description") or "",
        b.get("location") or "EU", b.get("labels"),
    )  # fmt: skip
    return 201, view


@route("GET", "projects/{p}/datasets/{d}")
def dataset_get(call: Call) -> tuple[int, object]:
    project, dataset_id = call.project(), call.params["d"]
    return _found(bigquery.get_dataset(call.store, project, dataset_id), f"dataset {project}:{dataset_id}")


@route("PATCH", "projects/{p}/datasets/{d}")
def dataset_update(call: Call) -> tuple[int, object]:
    b = call.body
    return 200, bigquery.update_dataset(
        call.store, call.project(), call.params["d"], b.get("description") or "", b.get("labels")
    )


@route("DELETE", "projects/{p}/datasets/{d}")
def dataset_delete(call: Call) -> tuple[int, object]:
    bigquery.delete_dataset(call.store, call.project(), call.params["d"], call.flag("delete_contents"))
    return 200, {}


TABLE_SPEC = ("schema", "description", "labels", "time_partitioning", "clustering", "deletion_protection")


@route("POST", "projects/{p}/datasets/{d}/tables")
def table_create(call: Call) -> tuple[int, object]:
    table_id = str(call.body.get("table_id") or "")
    return 201, bigquery.create_table(call.store, call.project(), call.params["d"], table_id, _body(call, *TABLE_SPEC))


@route("GET", "projects/{p}/datasets/{d}/tables/{t}")
def table_get(call: Call) -> tuple[int, object]:
    project, dataset_id, table_id = call.project(), call.params["d"], call.params["t"]
    view = bigquery.get_table(call.store, project, dataset_id, table_id)
    return _found(view, f"table {project}:{dataset_id}.{table_id}")


@route("PUT", "projects/{p}/datasets/{d}/tables/{t}")
def table_update(call: Call) -> tuple[int, object]:
    p = call.params
    return 200, bigquery.update_table(call.store, call.project(), p["d"], p["t"], _body(call, *TABLE_SPEC))


@route("DELETE", "projects/{p}/datasets/{d}/tables/{t}")
def table_delete(call: Call) -> tuple[int, object]:
    bigquery.delete_table(call.store, call.project(), call.params["d"], call.params["t"])
    return 200, {}


# -- service accounts ------------------------------------------------------------------------
@route("POST", "projects/{p}/serviceAccounts")
def sa_create(call: Call) -> tuple[int, object]:
    b = call.body
    view = iam.create_service_account(
        call.store, call.project(), str(b.get("account_id") or ""), b.get("display_name") or "",
        b.get("description") or "",
    )  # fmt: skip
    return 201, view


@route("GET", "projects/{p}/serviceAccounts/{a}")
def sa_get(call: Call) -> tuple[int, object]:
    project, account = call.project(), call.params["a"].split("@")[0]
    return _found(iam.get_service_account(call.store, project, account), f"service account {account} in {project}")


@route("PATCH", "projects/{p}/serviceAccounts/{a}")
def sa_update(call: Call) -> tuple[int, object]:
    b = call.body
    return 200, iam.update_service_account(
        call.store, call.project(), call.params["a"], b.get("display_name") or "", b.get("description") or ""
    )


@route("DELETE", "projects/{p}/serviceAccounts/{a}")
def sa_delete(call: Call) -> tuple[int, object]:
    iam.delete_service_account(call.store, call.project(), call.params["a"])
    return 200, {}


# -- buckets (names are global: addressed without their project) ------------------------------
def _bucket_project(call: Call, name: str) -> str | None:
    """The project that owns bucket `name`, checked against the token; None when there is none."""
    record = call.store.find_by_name(storage.BUCKET, validation.bucket_name(name))
    if record is not None:
        call.principal.require(record.project)
    return record.project if record else None


def _bucket_view(store: Store, view: dict) -> dict:
    return view | {"path": str(storage.bucket_dir(store, view["project"], view["name"]))}


@route("POST", "projects/{p}/buckets")
def bucket_create(call: Call) -> tuple[int, object]:
    b, project = call.body, call.project()
    name = validation.bucket_name(str(b.get("name") or ""))
    owner = call.store.find_by_name(storage.BUCKET, name)
    if owner is not None and not call.principal.may(owner.project):
        raise AlreadyExists(f"name: bucket {name} already exists in another project; bucket names are global", "name")
    view = storage.create_bucket(
        call.store, project, name, b.get("location") or "EU", b.get("labels"), bool(b.get("versioning")),
        b.get("storage_class") or "STANDARD",
    )  # fmt: skip
    return 201, _bucket_view(call.store, view)


@route("GET", "buckets/{name}")
def bucket_get(call: Call) -> tuple[int, object]:
    name = call.params["name"]
    view = storage.get_bucket(call.store, name) if _bucket_project(call, name) else None
    return _found(view and _bucket_view(call.store, view), f"bucket {name}")


@route("PATCH", "buckets/{name}")
def bucket_update(call: Call) -> tuple[int, object]:
    b, name = call.body, call.params["name"]
    _bucket_project(call, name)
    view = storage.update_bucket(
        call.store, name, b.get("labels"), bool(b.get("versioning")), b.get("storage_class") or "STANDARD"
    )
    return 200, _bucket_view(call.store, view)


@route("DELETE", "buckets/{name}")
def bucket_delete(call: Call) -> tuple[int, object]:
    name = call.params["name"]
    if _bucket_project(call, name):
        storage.delete_bucket(call.store, name, call.flag("force"))
    return 200, {}


# -- Composer environments -------------------------------------------------------------------
COMPOSER_SPEC = (
    "location", "image_version", "service_account", "labels", "airflow_config_overrides", "pypi_packages",
    "env_variables",
)  # fmt: skip


@route("POST", "projects/{p}/environments")
def environment_create(call: Call) -> tuple[int, object]:
    name = str(call.body.get("name") or "")
    return 201, composer.create_environment(call.store, call.project(), name, _body(call, *COMPOSER_SPEC))


@route("GET", "projects/{p}/environments/{n}")
def environment_get(call: Call) -> tuple[int, object]:
    project, name = call.project(), call.params["n"]
    return _found(composer.get_environment(call.store, project, name), f"Composer environment {project}/{name}")


@route("PUT", "projects/{p}/environments/{n}")
def environment_update(call: Call) -> tuple[int, object]:
    spec = _body(call, *COMPOSER_SPEC)
    return 200, composer.update_environment(call.store, call.project(), call.params["n"], spec)


@route("DELETE", "projects/{p}/environments/{n}")
def environment_delete(call: Call) -> tuple[int, object]:
    composer.delete_environment(call.store, call.project(), call.params["n"])
    return 200, {}


# -- IAM: grants belong to the project of what they are on ------------------------------------
TARGET = re.compile(r"^(projects/(?P<project>[^/ ]+)(/serviceAccounts/[^/ ]+)?|buckets/(?P<bucket>[^/ ]+))$")


def _target_scope(call: Call, target: str) -> bool:
    """Check the token against the target's project; False when the target (a bucket) does not exist."""
    match = TARGET.fullmatch(target or "")
    if not match:
        raise InvalidValue("target", target, "projects/<p>, projects/<p>/serviceAccounts/<email> or buckets/<name>")
    if match.group("project"):
        call.principal.require(match.group("project"))
        return True
    return _bucket_project(call, match.group("bucket")) is not None


def _grant_id(call: Call) -> str:
    grant = call.query.get("id", "")
    if not grant:
        raise InvalidValue("id", grant, "the grant's id in the query string: ?id=<target> <role>[ ...]")
    return grant


@route("PUT", "iam/bindings")
def binding_set(call: Call) -> tuple[int, object]:
    b = call.body
    target = str(b.get("target") or "")
    _target_scope(call, target)
    members = b.get("members")
    return 200, iam.set_binding(
        call.store, target, str(b.get("role") or ""), list(members or []), b.get("prefix") or ""
    )


@route("GET", "iam/bindings")
def binding_get(call: Call) -> tuple[int, object]:
    grant = _grant_id(call)
    view = iam.get_binding(call.store, grant) if _target_scope(call, grant.split(" ")[0]) else None
    return _found(view, f"binding {grant!r}")


@route("DELETE", "iam/bindings")
def binding_delete(call: Call) -> tuple[int, object]:
    grant = _grant_id(call)
    if _target_scope(call, grant.split(" ")[0]):
        iam.delete_binding(call.store, grant)
    return 200, {}


@route("POST", "iam/members")
def member_add(call: Call) -> tuple[int, object]:
    b = call.body
    target = str(b.get("target") or "")
    _target_scope(call, target)
    view = iam.add_member(
        call.store, target, str(b.get("role") or ""), str(b.get("member") or ""), b.get("prefix") or ""
    )
    return 201, view


@route("GET", "iam/members")
def member_get(call: Call) -> tuple[int, object]:
    grant = _grant_id(call)
    view = iam.get_member(call.store, grant) if _target_scope(call, grant.split(" ")[0]) else None
    return _found(view, f"grant {grant!r}")


@route("DELETE", "iam/members")
def member_delete(call: Call) -> tuple[int, object]:
    grant = _grant_id(call)
    if _target_scope(call, grant.split(" ")[0]):
        iam.remove_member(call.store, grant)
    return 200, {}
