"""Parity of a recreated project with the live one: pure functions over two inventories.

An inventory is what the local cloud lists for a project (`Client.list_resources`): one entry per
resource with its `type`, `name`, `status`, `attributes` and, for tables, `columns`. Resources are
matched by kind and name; then table schemas (columns by name: type, mode, description, nested
fields), labels, IAM policies (role → members) and every other attribute are compared.

Ignored, because they legitimately differ between a live cloud and a rebuilt one (docs/drift.md):
row data (`num_rows`), objects in buckets (`objects`: DAGs, exports, anything written at run time),
where a cloud keeps its files on its own disk (`dag_path`), creation and modification times,
etags, generated ids and self links (none of which the local cloud reports today; listed so that
they never count if it does), and the redundant list of a dataset's `tables` (each table is a
resource of its own). Every other attribute is compared as it is.
"""

from collections.abc import Iterable

# Attribute keys never compared, at any depth (see the module's docstring).
IGNORED_ATTRIBUTES = frozenset(
    {
        "num_rows",
        "objects",
        "dag_path",
        "tables",
        "creation_time",
        "create_time",
        "created",
        "created_at",
        "last_modified_time",
        "update_time",
        "updated_at",
        "etag",
        "self_link",
        "generated_id",
    }
)
LIVE, DRILL = "the live cloud", "the drill"


def _label(resource: dict) -> str:
    kind = resource["type"].replace("_", " ")
    return f"{kind} `{resource['name']}`"


def _show(value: object) -> str:
    return f"`{value}`" if not isinstance(value, (dict, list)) else f"`{value!r}`"


def inventory_differences(project: str, live: Iterable[dict], drill: Iterable[dict]) -> list[dict]:
    """What differs between the live inventory of `project` and the drill's, as
    [{"project", "resource", "message"}], sorted; empty when they match."""
    live_by_key = {(r["type"], r["name"]): r for r in live}
    drill_by_key = {(r["type"], r["name"]): r for r in drill}
    found: list[dict] = []

    def add(resource: dict, message: str) -> None:
        found.append({"project": project, "resource": _label(resource), "message": f"{_label(resource)}: {message}"})

    for key in sorted(live_by_key.keys() - drill_by_key.keys()):
        add(live_by_key[key], f"missing in {DRILL}")
    for key in sorted(drill_by_key.keys() - live_by_key.keys()):
        add(drill_by_key[key], f"missing in {LIVE}")
    for key in sorted(live_by_key.keys() & drill_by_key.keys()):
        theirs, ours = live_by_key[key], drill_by_key[key]
        for message in resource_differences(theirs, ours):
            add(theirs, message)
    return sorted(found, key=lambda d: (d["project"], d["resource"], d["message"]))


def resource_differences(live: dict, drill: dict) -> list[str]:
    """How one resource differs (same kind and name on both sides)."""
    if live.get("status") != drill.get("status"):
        return [f"{live.get('status')} in {LIVE}, {drill.get('status')} in {DRILL}"]
    messages = []
    if live["type"] == "table":
        messages += columns_differences(live.get("columns") or [], drill.get("columns") or [])
    ours, theirs = dict(drill.get("attributes") or {}), dict(live.get("attributes") or {})
    messages += mapping_differences(theirs.pop("labels", None) or {}, ours.pop("labels", None) or {}, "label")
    messages += policy_differences(theirs.pop("iam_policy", None) or {}, ours.pop("iam_policy", None) or {})
    for name in sorted((theirs.keys() | ours.keys()) - IGNORED_ATTRIBUTES):
        a, b = _comparable(theirs.get(name)), _comparable(ours.get(name))
        if a != b:
            messages.append(f"`{name}` is {_show(a)} in {LIVE}, {_show(b)} in {DRILL}")
    return messages


def _comparable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in sorted(value.items()) if k not in IGNORED_ATTRIBUTES}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def columns_differences(live: list[dict], drill: list[dict], prefix: str = "") -> list[str]:
    """Columns by name, in both directions, then each common column's type, mode, description and fields."""
    theirs = {c.get("name"): c for c in live}
    ours = {c.get("name"): c for c in drill}
    messages = [f"column `{prefix}{name}` missing in {DRILL}" for name in theirs if name not in ours]
    messages += [f"column `{prefix}{name}` missing in {LIVE}" for name in ours if name not in theirs]
    for name in [n for n in theirs if n in ours]:
        a, b = theirs[name], ours[name]
        for field in sorted((a.keys() | b.keys()) - {"name", "fields"}):
            if _comparable(a.get(field)) != _comparable(b.get(field)):
                messages.append(
                    f"column `{prefix}{name}`: {field} {_show(a.get(field))} in {LIVE}, {_show(b.get(field))} in {DRILL}"
                )
        messages += columns_differences(a.get("fields") or [], b.get("fields") or [], prefix=f"{prefix}{name}.")
    if not messages and [c.get("name") for c in live] != [c.get("name") for c in drill]:
        messages.append(f"columns are in another order in {DRILL}")
    return messages


def mapping_differences(live: dict, drill: dict, what: str) -> list[str]:
    messages = []
    for key in sorted(live.keys() | drill.keys()):
        if key not in drill:
            messages.append(f"{what} `{key}` (`{live[key]}`) missing in {DRILL}")
        elif key not in live:
            messages.append(f"{what} `{key}` (`{drill[key]}`) missing in {LIVE}")
        elif live[key] != drill[key]:
            messages.append(f"{what} `{key}` is `{live[key]}` in {LIVE}, `{drill[key]}` in {DRILL}")
    return messages


def policy_differences(live: dict, drill: dict) -> list[str]:
    """IAM policies, role → members: a member granted on one side only."""
    messages = []
    for role in sorted(live.keys() | drill.keys()):
        theirs, ours = set(live.get(role) or []), set(drill.get(role) or [])
        messages += [f"IAM `{role}`: `{m}` missing in {DRILL}" for m in sorted(theirs - ours)]
        messages += [f"IAM `{role}`: `{m}` missing in {LIVE}" for m in sorted(ours - theirs)]
    return messages
