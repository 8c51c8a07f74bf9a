"""`python -m localcloud create`: make a resource outside Terraform, through the API.

For what a deployment refers to but does not manage (a dataset a `managed: False` entry points
at), or something to `terraform import`. Attributes are `--attr key=value`: `map.key=value` for
map attributes (labels.team=data), `a,b` for lists (clustering=dt,user_id), `true`/`false` for
flags, and `@path` reads a file (schema=@bq_schemas/events.json).
"""

from pathlib import Path

from localcloud.client import Client
from localcloud.errors import InvalidValue

# kind → (attributes it accepts, which of them are maps, lists, flags)
KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "dataset": (("description", "location", "labels"), ("labels",), (), ()),
    "table": (
        ("schema", "description", "labels", "time_partitioning", "clustering", "deletion_protection"),
        ("labels", "time_partitioning"),
        ("clustering",),
        ("deletion_protection",),
    ),
    "service_account": (("display_name", "description"), (), (), ()),
    "bucket": (("location", "storage_class", "labels", "versioning"), ("labels",), (), ("versioning",)),
    "composer_environment": (
        (
            "location",
            "image_version",
            "service_account",
            "labels",
            "airflow_config_overrides",
            "pypi_packages",
            "env_variables",
        ),
        ("labels", "airflow_config_overrides", "pypi_packages", "env_variables"),
        (),
        (),
    ),
    "iam_member": (("target", "member", "prefix"), (), (), ()),
    "iam_binding": (("target", "members", "prefix"), (), ("members",), ()),
}
CREATABLE = tuple(KINDS)


def parse_attrs(kind: str, pairs: list[str]) -> dict:
    allowed, maps, lists, flags = KINDS[kind]
    attrs: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        top, dot, sub = key.partition(".")
        if not sep or top not in allowed:
            raise InvalidValue("--attr", pair, f"key=value with a key of a {kind}: {', '.join(allowed)}")
        if value.startswith("@"):
            value = Path(value[1:]).read_text()
        if top in maps:
            if not dot or not sub:
                raise InvalidValue("--attr", pair, f"{top} is a map: write {top}.<key>=<value>")
            attrs.setdefault(top, {})[sub] = value
        elif dot:
            raise InvalidValue("--attr", pair, f"{top} is not a map; write {top}=<value>")
        elif top in lists:
            attrs[top] = [item.strip() for item in value.split(",") if item.strip()]
        elif top in flags:
            if value.lower() not in ("true", "false"):
                raise InvalidValue("--attr", pair, f"{top} is true or false")
            attrs[top] = value.lower() == "true"
        else:
            attrs[top] = value
    return attrs


def create(api: Client, project: str, kind: str, name: str, pairs: list[str]) -> dict:
    """Create `kind` NAME in `project`; for a grant NAME is the role and the target defaults to the project."""
    attrs = parse_attrs(kind, pairs)
    if kind == "dataset":
        return api.create_dataset(project, name, **attrs)
    if kind == "table":
        dataset_id, dot, table_id = name.partition(".")
        if not dot or "schema" not in attrs:
            raise InvalidValue("NAME", name, "a table is DATASET.TABLE and needs --attr schema=<JSON or @file>")
        return api.create_table(project, dataset_id, table_id, attrs)
    if kind == "service_account":
        return api.create_service_account(project, name, **attrs)
    if kind == "bucket":
        return api.create_bucket(project, name, **attrs)
    if kind == "composer_environment":
        return api.create_environment(project, name, attrs)
    target = attrs.get("target") or f"projects/{project}"
    if kind == "iam_member":
        return api.add_member(target, name, attrs.get("member", ""), attrs.get("prefix", ""))
    return api.set_binding(target, name, attrs.get("members", []), attrs.get("prefix", ""))
