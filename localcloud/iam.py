"""Service accounts and IAM bindings (authoritative for one role on one target)."""

import hashlib
import re

from localcloud import storage, validation
from localcloud.errors import AlreadyExists, InvalidValue, NotFound
from localcloud.store import Store

SERVICE_ACCOUNT = "service_account"
BINDING = "iam_binding"
MEMBER_GRANT = "iam_member"
GRANT_KINDS = (BINDING, MEMBER_GRANT)

# The predefined roles the local cloud knows, by the kind of target they may be granted on.
PROJECT_ROLES = (
    "roles/owner",
    "roles/editor",
    "roles/viewer",
    "roles/bigquery.admin",
    "roles/bigquery.dataOwner",
    "roles/bigquery.dataEditor",
    "roles/bigquery.dataViewer",
    "roles/bigquery.jobUser",
    "roles/bigquery.user",
    "roles/bigquery.metadataViewer",
    "roles/composer.admin",
    "roles/composer.user",
    "roles/composer.worker",
    "roles/composer.environmentAndStorageObjectViewer",
    "roles/iam.serviceAccountUser",
    "roles/iam.serviceAccountTokenCreator",
    "roles/logging.viewer",
    "roles/monitoring.viewer",
    "roles/storage.admin",
    "roles/storage.objectAdmin",
    "roles/storage.objectCreator",
    "roles/storage.objectViewer",
)
SERVICE_ACCOUNT_ROLES = (
    "roles/iam.serviceAccountTokenCreator",
    "roles/iam.serviceAccountUser",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.workloadIdentityUser",
    "roles/iam.serviceAccountOpenIdTokenCreator",
)
BUCKET_ROLES = (
    "roles/storage.admin",
    "roles/storage.objectAdmin",
    "roles/storage.objectCreator",
    "roles/storage.objectViewer",
    "roles/storage.objectUser",
    "roles/storage.legacyBucketOwner",
    "roles/storage.legacyBucketReader",
    "roles/storage.legacyBucketWriter",
    "roles/storage.legacyObjectReader",
)
CUSTOM_ROLE = re.compile(r"^(projects/[a-z][a-z0-9-]{4,61}[a-z0-9]|organizations/[0-9]+)/roles/[A-Za-z0-9_.]{3,64}$")
MEMBER = re.compile(
    r"^(allUsers|allAuthenticatedUsers|(user|group|serviceAccount):[^@\s]+@[^@\s]+\.[^@\s]+|domain:[a-z0-9.-]+\.[a-z]+"
    r"|projectOwner:\S+|projectEditor:\S+|projectViewer:\S+|principal(Set)?://\S+)$"
)


# -- service accounts -----------------------------------------------------------
def sa_email(project: str, account_id: str) -> str:
    return f"{account_id}@{project}.iam.gserviceaccount.com"


def _sa_view(project: str, account_id: str, attrs: dict) -> dict:
    email = sa_email(project, account_id)
    unique_id = str(int(hashlib.sha256(email.encode()).hexdigest()[:15], 16)).rjust(21, "1")
    return {"project": project, "account_id": account_id, "email": email, "unique_id": unique_id, **attrs}


def get_service_account(store: Store, project: str, account_id: str) -> dict | None:
    record = store.get(SERVICE_ACCOUNT, project, account_id)
    return _sa_view(project, account_id, record.attrs) if record else None


def create_service_account(
    store: Store, project: str, account_id: str, display_name: str = "", description: str = ""
) -> dict:
    validation.project_id(project)
    validation.account_id(account_id)
    attrs = {"display_name": display_name or "", "description": description or ""}
    with store.session(write=True) as conn:
        if store.get(SERVICE_ACCOUNT, project, account_id, conn):
            raise AlreadyExists(
                f"account_id: service account {sa_email(project, account_id)} already exists; import it with "
                f"terraform import <address> projects/{project}/serviceAccounts/{sa_email(project, account_id)}",
                "account_id",
            )
        store.put(conn, SERVICE_ACCOUNT, project, account_id, attrs)
    return _sa_view(project, account_id, attrs)


def update_service_account(
    store: Store, project: str, account_id: str, display_name: str, description: str = ""
) -> dict:
    attrs = {"display_name": display_name or "", "description": description or ""}
    with store.session(write=True) as conn:
        if store.get(SERVICE_ACCOUNT, project, account_id, conn) is None:
            raise NotFound(f"account_id: service account {sa_email(project, account_id)} does not exist", "account_id")
        store.put(conn, SERVICE_ACCOUNT, project, account_id, attrs)
    return _sa_view(project, account_id, attrs)


def delete_service_account(store: Store, project: str, account_id: str) -> None:
    target = f"projects/{project}/serviceAccounts/{sa_email(project, account_id)}"
    with store.session(write=True) as conn:
        store.remove(conn, SERVICE_ACCOUNT, project, account_id)
        conn.execute(
            "DELETE FROM resources WHERE kind IN (?, ?) AND json_extract(attrs, '$.target') = ?", (*GRANT_KINDS, target)
        )


# -- bindings -------------------------------------------------------------------
def binding_target(project: str = "", service_account: str = "", bucket: str = "") -> tuple[str, str]:
    """(kind, target) from exactly one of the three ways to name what is being granted on."""
    given = [(k, v) for k, v in (("project", project), ("service_account", service_account), ("bucket", bucket)) if v]
    if len(given) != 1:
        raise InvalidValue(
            "project/service_account/bucket",
            ", ".join(k for k, _ in given) or "none",
            "set exactly one of project, service_account (an email) or bucket (a bucket name)",
        )
    kind, value = given[0]
    if kind == "project":
        return kind, f"projects/{validation.project_id(value)}"
    if kind == "service_account":
        sa_project, _ = validation.sa_email(value)
        return kind, f"projects/{sa_project}/serviceAccounts/{value}"
    return kind, f"buckets/{validation.bucket_name(value, 'bucket')}"


def validate_role(role: str, target_kind: str) -> str:
    if CUSTOM_ROLE.fullmatch(role or ""):
        return role
    allowed = {"project": PROJECT_ROLES, "service_account": SERVICE_ACCOUNT_ROLES, "bucket": BUCKET_ROLES}[target_kind]
    if role not in allowed:
        raise InvalidValue(
            "role",
            role,
            f"roles grantable on a {target_kind.replace('_', ' ')}: {', '.join(allowed)}, "
            "or a custom role projects/<project>/roles/<id>",
        )
    return role


def validate_members(members: list[str]) -> list[str]:
    if not members:
        raise InvalidValue("members", members, "at least one member, e.g. group:team@example.com")
    for index, member in enumerate(members):
        if not MEMBER.fullmatch(member or ""):
            raise InvalidValue(
                f"members[{index}]",
                member,
                "members look like user:<email>, group:<email>, serviceAccount:<email>, domain:<domain>, "
                "allUsers or allAuthenticatedUsers",
            )
    return sorted(set(members))


def binding_id(target: str, role: str, prefix: str = "") -> str:
    return f"{target} {role}" + (f" {prefix}" if prefix else "")


def _target_project(store: Store, target: str) -> str:
    """The project that owns a target; raises NotFound when the target is gone."""
    parts = target.split("/")
    if parts[0] == "projects" and len(parts) == 2:
        return parts[1]
    if parts[0] == "projects":
        project, email = parts[1], parts[3]
        if get_service_account(store, project, email.split("@")[0]) is None:
            raise NotFound(f"service_account: service account {email} does not exist", "service_account")
        return project
    bucket = storage.get_bucket(store, parts[1])
    if bucket is None:
        raise NotFound(f"bucket: bucket {parts[1]} does not exist", "bucket")
    return bucket["project"]


def get_binding(store: Store, binding: str) -> dict | None:
    target = binding.split(" ")[0]
    try:
        project = _target_project(store, target)
    except (NotFound, IndexError):
        return None
    record = store.get(BINDING, project, binding)
    return {"id": binding, **record.attrs} if record else None


def target_kind(target: str) -> str:
    if target.startswith("buckets/"):
        return "bucket"
    return "project" if target.count("/") == 1 else "service_account"


def validate_prefix(prefix: str, kind: str) -> str:
    if prefix and kind != "bucket":
        raise InvalidValue("prefix", prefix, "an object prefix only applies to a grant on a bucket")
    if prefix.startswith("/") or ".." in prefix.split("/") or "*" in prefix:
        raise InvalidValue("prefix", prefix, "a relative object prefix such as dags/<project>/ (no '..' or '*')")
    return prefix


def set_binding(store: Store, target: str, role: str, members: list[str], prefix: str = "") -> dict:
    """Create or replace the members of one role on one target (and object prefix)."""
    kind = target_kind(target)
    validate_role(role, kind)
    members = validate_members(members)
    validate_prefix(prefix, kind)
    project = _target_project(store, target)
    name = binding_id(target, role, prefix)
    attrs = {"target": target, "role": role, "members": members, "prefix": prefix}
    with store.session(write=True) as conn:
        store.put(conn, BINDING, project, name, attrs)
    return {"id": name, **attrs}


def delete_binding(store: Store, binding: str) -> None:
    with store.session(write=True) as conn:
        conn.execute("DELETE FROM resources WHERE kind = ? AND name = ?", (BINDING, binding))


# -- single members (non-authoritative: several grants of one role add up) ---------------
def member_id(target: str, role: str, member: str, prefix: str = "") -> str:
    return f"{target} {role} {member}" + (f" {prefix}" if prefix else "")


def get_member(store: Store, grant: str) -> dict | None:
    try:
        project = _target_project(store, grant.split(" ")[0])
    except (NotFound, IndexError):
        return None
    record = store.get(MEMBER_GRANT, project, grant)
    return {"id": grant, **record.attrs} if record else None


def add_member(store: Store, target: str, role: str, member: str, prefix: str = "") -> dict:
    kind = target_kind(target)
    validate_role(role, kind)
    validate_members([member])
    validate_prefix(prefix, kind)
    project = _target_project(store, target)
    grant = member_id(target, role, member, prefix)
    attrs = {"target": target, "role": role, "member": member, "prefix": prefix}
    with store.session(write=True) as conn:
        store.put(conn, MEMBER_GRANT, project, grant, attrs)
    return {"id": grant, **attrs}


def remove_member(store: Store, grant: str) -> None:
    with store.session(write=True) as conn:
        conn.execute("DELETE FROM resources WHERE kind = ? AND name = ?", (MEMBER_GRANT, grant))


def effective_members(store: Store, target: str) -> dict[str, list[str]]:
    """role (with ` on <prefix>` for prefixed bucket grants) → all members, from bindings and single grants."""
    policy: dict[str, set[str]] = {}
    for record in store.records():
        if record.kind in GRANT_KINDS and record.attrs["target"] == target:
            role = record.attrs["role"] + (f" on {record.attrs['prefix']}" if record.attrs.get("prefix") else "")
            members = record.attrs.get("members") or [record.attrs["member"]]
            policy.setdefault(role, set()).update(members)
    return {role: sorted(members) for role, members in sorted(policy.items())}
