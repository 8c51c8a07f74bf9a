"""A Terraform JSON plan in the DSL's own terms (pure functions, no database).

`plan` is what `terraform show -json plan.bin` prints (format 0.2 of Terraform 1.0; later
fields such as `action_reason` are used when present). Values in a plan come from users (table
descriptions, labels) and are kept as plain text here: whoever renders them escapes them (the
template does). A huge plan is bounded: at most MAX_RESOURCES entries and MAX_CHANGES attribute
lines per entry, each with a count of what was left out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from deployments.plans.sources import DslObject, column_lines, dsl_objects, object_from_label

KNOWN_AFTER_APPLY = "(known after apply)"
SENSITIVE = "(sensitive)"
MAX_RESOURCES = 200
MAX_CHANGES = 40
MAX_VALUE_CHARS = 200
MAX_DEPTH = 20

RowCounts = Callable[[str, str, str], "int | None"]

# Attributes that only repeat another one (a table's column names follow its schema) or never say anything.
_HIDDEN = {"localcloud_table": {"columns"}, "*": {"id"}}
_TABLE = "localcloud_table"
_IAM_MEMBER = "localcloud_iam_member"
_IAM_BINDING = "localcloud_iam_binding"


@dataclass(frozen=True)
class AttributeChange:
    """One line of a diff: `subject_kind` `subject` before → after."""

    path: str  # e.g. "labels.gdpr_personal_data", "schema.team", "schema.n.type", "members", "description"
    before: str | None  # as shown; None: not there before
    after: str | None  # as shown (KNOWN_AFTER_APPLY, SENSITIVE); None: not there after
    subject_kind: str  # "label", "column", "member", "attribute", …
    subject: str  # the label key, column name, member, attribute name
    link: tuple[str, int] | None = None  # (artifact path, line) that defines it, e.g. a schema column
    aspect: str = ""  # what of the subject changed: a column's "type", "mode" or "description"

    @property
    def verb(self) -> str:
        if self.before is None and self.after is None:
            return "unchanged"
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed"

    @property
    def sentence(self) -> str:
        """e.g. "column `team` added (STRING)", "label `gdpr_personal_data` 0 → 1"."""
        attribute = self.subject_kind == "attribute"
        what = f"`{self.subject}`" if attribute else f"{self.subject_kind} `{self.subject}`"
        if self.aspect:
            what += f" {self.aspect}"
        if self.after == KNOWN_AFTER_APPLY and self.before is None:
            return f"{what} {KNOWN_AFTER_APPLY}"
        if self.verb == "added":
            return f"{what} set to {self.after}" if attribute else f"{what} added ({self.after})"
        if self.verb == "removed":
            return f"{what} unset (was {self.before})" if attribute else f"{what} removed (was {self.before})"
        return f"{what} {self.before} → {self.after}"


ACTION_LABELS = {
    "create": "create",
    "update": "update in place",
    "replace": "replace",
    "delete": "destroy",
    "read": "read",
}
ACTION_BADGES = {"create": "ok", "update": "warn", "replace": "bad", "delete": "bad", "read": "info"}


@dataclass(frozen=True)
class ResourceChange:
    address: str
    action: str  # create, update, replace, delete, read
    resource_type: str
    dsl: DslObject | None  # None: plain Terraform (or a module the compiler does not write)
    changes: tuple[AttributeChange, ...] = ()
    omitted_changes: int = 0  # attribute lines beyond MAX_CHANGES
    replace_reason: str = ""  # why a replace: Terraform's action_reason, or the attributes that force it
    reverted: bool = False  # drift only: this apply puts it back

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def badge(self) -> str:
        """The CSS class of the action's badge (hangar.css .badge.*)."""
        return ACTION_BADGES.get(self.action, "")

    @property
    def title(self) -> str:
        """The DSL name ("table `kpis.daily`"), or the address for plain Terraform."""
        return self.dsl.title if self.dsl else self.address

    @property
    def part(self) -> str:
        """Which resource of the DSL object, when it compiles to more than one ("localcloud_iam_member.worker")."""
        if self.dsl is None:
            return ""
        return self.address.removeprefix(f"module.{self.dsl.module}.")

    @property
    def link(self) -> tuple[str, int] | None:
        if self.dsl and self.dsl.path and self.dsl.line:
            return self.dsl.path, self.dsl.line
        return None

    @property
    def summary(self) -> str:
        """The changes in one sentence: "column `team` added (STRING); label `gdpr_personal_data` 0 → 1"."""
        text = "; ".join(change.sentence for change in self.changes)
        if self.omitted_changes:
            text += f"; … {self.omitted_changes} more"
        return text


@dataclass(frozen=True)
class PlanWarning:
    kind: str  # "data_loss", "iam_removed", "drift"
    message: str
    address: str
    dsl: DslObject | None = None


@dataclass(frozen=True)
class PlanGroup:
    """The resource changes of one DSL object (a composer is three resources), or of one plain resource."""

    dsl: DslObject | None
    resources: tuple[ResourceChange, ...]

    @property
    def title(self) -> str:
        return self.dsl.title if self.dsl else self.resources[0].address


@dataclass(frozen=True)
class ReadablePlan:
    add: int = 0
    change: int = 0
    destroy: int = 0
    resource_changes: tuple[ResourceChange, ...] = ()
    drift: tuple[ResourceChange, ...] = ()  # changes made outside Hangar, as Terraform found them
    warnings: tuple[PlanWarning, ...] = ()
    omitted_resources: int = 0  # entries beyond MAX_RESOURCES (counted in add/change/destroy all the same)
    omitted_drift: int = 0
    destroys_anything: bool = False
    replaces_anything: bool = False
    groups: tuple[PlanGroup, ...] = field(default=())
    # A `-refresh-only` plan (Accept reality): it changes no resource; the state takes the drift.
    refresh_only: bool = False

    @property
    def has_changes(self) -> bool:
        if self.refresh_only:
            return bool(self.drift)
        return bool(self.add or self.change or self.destroy or self.resource_changes)

    @property
    def drift_count(self) -> int:
        return len(self.drift) + self.omitted_drift

    @property
    def headline(self) -> str:
        if not self.has_changes:
            return "No changes"
        if self.refresh_only:
            count = self.drift_count
            what = "1 resource" if count == 1 else f"{count} resources"
            return f"{what} changed outside Hangar: the state takes what is there"
        return f"{self.add} to add, {self.change} to change, {self.destroy} to destroy"


def readable_plan(
    plan: dict,
    *,
    sources: dict[str, str] | None = None,
    row_counts: RowCounts | None = None,
    main_yaml: str | None = None,
    refresh_only: bool = False,
) -> ReadablePlan:
    """Read `terraform show -json` output. `sources` maps artifact paths (infrastructure/dev/main.yaml,
    schema files) to their text, for DSL names and links; `main_yaml` says which of them is this
    environment's (default: the only `…/main.yaml`). `row_counts(project, dataset, table)` gives how
    many rows a table holds (None: unknown), for the warning before a table is destroyed. `refresh_only`:
    the plan of `terraform plan -refresh-only`, whose drift is what its apply writes to the state (it puts
    nothing back)."""
    sources = sources or {}
    objects = _objects(sources, main_yaml)
    entries = [entry for entry in _list(plan.get("resource_changes")) if isinstance(entry, dict)]
    add = change = destroy = 0
    replaces = False
    changes: list[ResourceChange] = []
    warnings: list[PlanWarning] = []
    changed_addresses: set[str] = set()
    for entry in entries:
        action = _action(entry)
        if action is None:
            continue
        changed_addresses.add(str(entry.get("address", "")))
        add += action in ("create", "replace")
        change += action == "update"
        destroy += action in ("delete", "replace")
        replaces |= action == "replace"
        resource = _resource_change(entry, action, objects, sources)
        warnings.extend(_warnings(entry, resource, row_counts))
        if len(changes) < MAX_RESOURCES:
            changes.append(resource)
    drift: list[ResourceChange] = []
    drift_entries = [entry for entry in _list(plan.get("resource_drift")) if isinstance(entry, dict)]
    for entry in drift_entries:
        action = _action(entry)
        if action is None:
            continue
        reverted = not refresh_only and str(entry.get("address", "")) in changed_addresses
        resource = _resource_change(entry, action, objects, sources, drift=True, reverted=reverted)
        if reverted:
            warnings.append(PlanWarning("drift", _drift_message(resource), resource.address, resource.dsl))
        if len(drift) < MAX_RESOURCES:
            drift.append(resource)
    omitted_drift = sum(1 for entry in drift_entries if _action(entry)) - len(drift)
    return ReadablePlan(
        add=add,
        change=change,
        destroy=destroy,
        resource_changes=tuple(changes),
        drift=tuple(drift),
        warnings=tuple(_bounded_warnings(warnings)),
        omitted_resources=len(changed_addresses) - len(changes) if len(changed_addresses) > len(changes) else 0,
        omitted_drift=omitted_drift,
        destroys_anything=destroy > 0,
        replaces_anything=replaces,
        groups=tuple(_groups(changes)),
        refresh_only=refresh_only,
    )


def _api_resource(resource: ResourceChange) -> dict:
    return {
        "address": resource.address,
        "action": resource.action,
        "dsl": {"kind": resource.dsl.kind, "name": resource.dsl.name} if resource.dsl else None,
        "changes": [
            {"path": change.path, "before": change.before, "after": change.after} for change in resource.changes
        ],
    }


def api_shape(readable: ReadablePlan) -> dict:
    """The plan for `GET /api/runs/<id>/`: counts, one entry per resource change, the warnings, and what was
    changed outside Hangar (`drift`, before → now: what an Accept reality run writes to the state)."""
    return {
        "add": readable.add,
        "change": readable.change,
        "destroy": readable.destroy,
        "refresh_only": readable.refresh_only,
        "resource_changes": [_api_resource(resource) for resource in readable.resource_changes],
        "drift": [_api_resource(resource) for resource in readable.drift],
        "warnings": [
            {"kind": warning.kind, "address": warning.address, "message": warning.message}
            for warning in readable.warnings
        ],
    }


# -- one resource change -------------------------------------------------------------------------


def _action(entry: dict) -> str | None:
    """create, update, replace, delete or read; None for no-op (and anything unknown)."""
    actions = (entry.get("change") or {}).get("actions") if isinstance(entry.get("change"), dict) else None
    actions = list(actions) if isinstance(actions, list) else []
    if sorted(actions) == ["create", "delete"]:
        return "replace"
    if len(actions) == 1 and actions[0] in ("create", "update", "delete", "read"):
        return actions[0]
    return None


def _objects(sources: dict[str, str], main_yaml: str | None) -> dict[str, DslObject]:
    if main_yaml is None:
        candidates = sorted(path for path in sources if path.endswith("/main.yaml") or path == "main.yaml")
        main_yaml = candidates[0] if len(candidates) == 1 else None
    if main_yaml is None or not isinstance(sources.get(main_yaml), str):
        return {}
    return dsl_objects(sources[main_yaml], main_yaml)


def _module_label(entry: dict) -> str | None:
    """The first module of the address: the one the compiler wrote (`module.<label>…`)."""
    module = entry.get("module_address") or ""
    if not isinstance(module, str) or not module.startswith("module."):
        return None
    label = module.removeprefix("module.").split(".module.", 1)[0]
    return label.split("[", 1)[0]  # count / for_each keys stay out of the name


def _resource_change(
    entry: dict,
    action: str,
    objects: dict[str, DslObject],
    sources: dict[str, str],
    *,
    drift: bool = False,
    reverted: bool = False,
) -> ResourceChange:
    address = str(entry.get("address", ""))
    resource_type = str(entry.get("type", ""))
    label = _module_label(entry)
    dsl = None
    if label is not None:
        dsl = objects.get(label) or object_from_label(label)
    change = entry.get("change") if isinstance(entry.get("change"), dict) else {}
    lines: list[AttributeChange] = []
    if action in ("create", "update", "replace") or (drift and action != "delete"):
        schema_lines = _schema_lines(dsl, sources)
        lines = list(_attribute_changes(resource_type, change, action, dsl, schema_lines))
    reason = _replace_reason(entry, change) if action == "replace" else ""
    return ResourceChange(
        address=address,
        action=action,
        resource_type=resource_type,
        dsl=dsl,
        changes=tuple(lines[:MAX_CHANGES]),
        omitted_changes=max(0, len(lines) - MAX_CHANGES),
        replace_reason=reason,
        reverted=reverted,
    )


REASONS = {
    "replace_because_tainted": "it is tainted (marked broken)",
    "replace_because_cannot_update": "an attribute cannot be changed in place",
    "replace_by_request": "a replace was requested",
}


def _replace_reason(entry: dict, change: dict) -> str:
    reason = entry.get("action_reason")
    paths = [_path_text(path) for path in _list(change.get("replace_paths")) if isinstance(path, list)]
    paths = [path for path in paths if path]
    if paths:
        names = ", ".join(f"`{path}`" for path in sorted(set(paths)))
        return f"{names} cannot be changed in place"
    if isinstance(reason, str) and reason:
        return REASONS.get(reason, reason.replace("_", " "))
    return "Terraform gives no reason (tainted, or a replace was requested)"


def _path_text(path: list) -> str:
    text = ""
    for step in path[:MAX_DEPTH]:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _schema_lines(dsl: DslObject | None, sources: dict[str, str]) -> dict[str, int]:
    if dsl is None or not dsl.schema_file or not isinstance(sources.get(dsl.schema_file), str):
        return {}
    return column_lines(sources[dsl.schema_file])


# -- attribute diffs -----------------------------------------------------------------------------

_ABSENT = object()


def _attribute_changes(
    resource_type: str, change: dict, action: str, dsl: DslObject | None, schema_lines: dict[str, int]
) -> Iterator[AttributeChange]:
    before = change.get("before") if action != "create" else None
    after = change.get("after")
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    unknown = _dict(change.get("after_unknown"))
    before_sensitive = _dict(change.get("before_sensitive"))
    after_sensitive = _dict(change.get("after_sensitive"))
    whole_sensitive = change.get("after_sensitive") is True or change.get("before_sensitive") is True
    hidden = _HIDDEN["*"] | _HIDDEN.get(resource_type, set())
    names = sorted((set(before) | set(after) | set(unknown)) - hidden)
    for name in names:
        old = before.get(name, _ABSENT) if action != "create" else _ABSENT
        new = after.get(name, _ABSENT)
        state = _Flags(
            unknown=unknown.get(name, False),
            before_sensitive=True if whole_sensitive else before_sensitive.get(name, False),
            after_sensitive=True if whole_sensitive else after_sensitive.get(name, False),
        )
        if name == "schema" and resource_type == _TABLE and not state.hides:
            yield from _schema_changes(old, new, state, dsl, schema_lines)
        elif name == "labels":
            yield from _map_changes("labels", old, new, state, "label")
        elif name == "members" and resource_type in (_IAM_BINDING,):
            yield from _list_changes("members", old, new, state, "member")
        else:
            yield from _value_changes(name, old, new, state, "attribute", name)


@dataclass(frozen=True)
class _Flags:
    unknown: object = False  # True, or a nested structure of booleans
    before_sensitive: object = False
    after_sensitive: object = False

    @property
    def hides(self) -> bool:
        return self.unknown is True or self.before_sensitive is True or self.after_sensitive is True

    def child(self, key: object) -> _Flags:
        return _Flags(_at(self.unknown, key), _at(self.before_sensitive, key), _at(self.after_sensitive, key))


def _at(flags: object, key: object) -> object:
    if flags is True:
        return True
    if isinstance(flags, dict) and isinstance(key, str):
        return flags.get(key, False)
    if isinstance(flags, list) and isinstance(key, int) and 0 <= key < len(flags):
        return flags[key]
    return False


def _contains_true(flags: object, depth: int = 0) -> bool:
    if flags is True:
        return True
    if depth > MAX_DEPTH:
        return False
    if isinstance(flags, dict):
        return any(_contains_true(value, depth + 1) for value in flags.values())
    if isinstance(flags, list):
        return any(_contains_true(value, depth + 1) for value in flags)
    return False


def _shown(value: object, *, sensitive: object = False, unknown: object = False) -> str | None:
    """A value as shown: text for scalars, compact JSON for the rest, bounded; None when absent."""
    if unknown is True:
        return KNOWN_AFTER_APPLY
    if value is _ABSENT:
        return None
    if sensitive is True:
        return SENSITIVE
    if value is None:
        return "null"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value if value != "" else '""'
    elif isinstance(value, int | float):
        text = str(value)
    else:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
        if _contains_true(unknown):
            text += f" {KNOWN_AFTER_APPLY} in part"
        if _contains_true(sensitive):
            text = f"{SENSITIVE} in part"
    if len(text) > MAX_VALUE_CHARS:
        text = f"{text[:MAX_VALUE_CHARS]}… ({len(text)} characters)"
    return text


def _value_changes(
    path: str, old: object, new: object, state: _Flags, subject_kind: str, subject: str
) -> Iterator[AttributeChange]:
    """One attribute; nested objects (not labels) become one line per changed key."""
    if state.unknown is True:
        yield AttributeChange(
            path, _shown(old, sensitive=state.before_sensitive), KNOWN_AFTER_APPLY, subject_kind, subject
        )
        return
    if old == new and not state.hides:
        return
    sensitive_any = state.before_sensitive is True or state.after_sensitive is True
    if sensitive_any:
        if old != new:
            before = _shown(old, sensitive=state.before_sensitive or state.after_sensitive)
            after = _shown(new, sensitive=state.before_sensitive or state.after_sensitive)
            yield AttributeChange(path, before, after, subject_kind, subject)
        return
    if (old is _ABSENT or old is None) and (new is _ABSENT or new is None):
        return  # null on create: nothing set
    if isinstance(old, dict) and isinstance(new, dict) and path.count(".") < MAX_DEPTH:
        yield from _map_changes(path, old, new, state, "key")
        return
    if _scalars(old) and _scalars(new) and not _contains_true(state.unknown):
        # Items added and removed; a list that is only reordered is shown whole.
        reordered = isinstance(old, list) and isinstance(new, list) and sorted(map(str, old)) == sorted(map(str, new))
        if not reordered:
            yield from _list_changes(path, old, new, state, subject)
            return
    yield AttributeChange(
        path,
        _shown(old, sensitive=state.before_sensitive) if old is not None else ("null" if old is None else None),
        _shown(new, sensitive=state.after_sensitive, unknown=state.unknown),
        subject_kind,
        subject,
    )


def _scalars(value: object) -> bool:
    return value in (_ABSENT, None) or (
        isinstance(value, list) and all(isinstance(item, str | int | float | bool) for item in value)
    )


def _map_changes(path: str, old: object, new: object, state: _Flags, subject_kind: str) -> Iterator[AttributeChange]:
    """A map (labels) key by key: added, removed, changed."""
    if state.hides or not isinstance(old if old not in (_ABSENT, None) else {}, dict):
        yield from _value_changes(path, old, new, _Flags(state.unknown, state.before_sensitive, state.after_sensitive),
                                  "attribute", path)  # fmt: skip
        return
    old_map = old if isinstance(old, dict) else {}
    new_map = new if isinstance(new, dict) else {}
    if not isinstance(new, dict) and new not in (_ABSENT, None):
        yield AttributeChange(path, _shown(old), _shown(new), "attribute", path)
        return
    unknown = state.unknown if isinstance(state.unknown, dict) else {}
    for key in sorted(set(old_map) | set(new_map) | set(unknown)):
        child = state.child(key)
        before, after = old_map.get(key, _ABSENT), new_map.get(key, _ABSENT)
        if child.unknown is True:
            after_text = KNOWN_AFTER_APPLY
        elif before == after:
            continue
        else:
            after_text = _shown(after, sensitive=child.after_sensitive)
        before_text = _shown(before, sensitive=child.before_sensitive)
        if isinstance(before, dict) or isinstance(after, dict):
            yield from _value_changes(f"{path}.{key}", before, after, child, subject_kind, str(key))
            continue
        yield AttributeChange(f"{path}.{key}", before_text, after_text, subject_kind, str(key))


def _list_changes(
    path: str, old: object, new: object, state: _Flags, subject_kind: str, subject: str | None = None
) -> Iterator[AttributeChange]:
    """A list of text (IAM members, clustering) as items added and removed."""
    if state.hides or _contains_true(state.unknown):
        yield from _value_changes(path, old, new, _Flags(state.unknown, state.before_sensitive, state.after_sensitive),
                                  "attribute", subject or path)  # fmt: skip
        return
    old_items = [str(item) for item in old] if isinstance(old, list) else []
    new_items = [str(item) for item in new] if isinstance(new, list) else []
    for item in [item for item in old_items if item not in new_items]:
        yield AttributeChange(path, _bounded(item), None, subject_kind, _bounded(item))
    for item in [item for item in new_items if item not in old_items]:
        yield AttributeChange(path, None, _bounded(item), subject_kind, _bounded(item))


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_VALUE_CHARS else f"{text[:MAX_VALUE_CHARS]}… ({len(text)} characters)"


def _schema_changes(
    old: object, new: object, state: _Flags, dsl: DslObject | None, schema_lines: dict[str, int]
) -> Iterator[AttributeChange]:
    """A table's schema (JSON text) column by column: added, removed, type / mode / description changed."""
    old_fields, new_fields = _columns(old), _columns(new)
    if (old not in (_ABSENT, None) and old_fields is None) or (new not in (_ABSENT, None) and new_fields is None):
        yield from _value_changes("schema", old, new, state, "attribute", "schema")
        return
    yield from _column_changes("schema", "", old_fields or [], new_fields or [], dsl, schema_lines, 1)


def _columns(text: object) -> list[dict] | None:
    if not isinstance(text, str):
        return None
    try:
        fields = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(fields, list):
        return None
    return [f for f in fields if isinstance(f, dict) and isinstance(f.get("name"), str)]


def _column_type(column: dict) -> str:
    kind = str(column.get("type", "")).upper()
    return {"INT64": "INTEGER", "FLOAT64": "FLOAT", "BOOL": "BOOLEAN", "STRUCT": "RECORD"}.get(kind, kind)


def _column_mode(column: dict) -> str:
    return str(column.get("mode") or "NULLABLE").upper()


def _column_description(column: dict) -> str:
    return str(column.get("description") or "")


def _column_text(column: dict) -> str:
    text = f"{str(column.get('type', '')).upper()} {_column_mode(column)}"
    if _column_description(column):
        text += f", “{_column_description(column)}”"
    return _bounded(text)


def _column_changes(
    path: str,
    parent: str,
    old: list[dict],
    new: list[dict],
    dsl: DslObject | None,
    lines: dict[str, int],
    depth: int,
) -> Iterator[AttributeChange]:
    old_by_name = {c["name"].lower(): c for c in old}
    new_by_name = {c["name"].lower(): c for c in new}

    def link(name: str) -> tuple[str, int] | None:
        if dsl is not None and dsl.schema_file and name in lines:
            return dsl.schema_file, lines[name]
        return None

    for column in old:
        if column["name"].lower() not in new_by_name:
            name = f"{parent}{column['name']}"
            yield AttributeChange(f"{path}.{name}", _column_text(column), None, "column", name)
    for column in new:
        name = f"{parent}{column['name']}"
        previous = old_by_name.get(column["name"].lower())
        if previous is None:
            yield AttributeChange(f"{path}.{name}", None, _column_text(column), "column", name, link(name))
            continue
        for aspect, read in (("type", _column_type), ("mode", _column_mode), ("description", _column_description)):
            before, after = read(previous), read(column)
            if before != after:
                yield AttributeChange(
                    f"{path}.{name}.{aspect}",
                    _bounded(before) if before else "(none)",
                    _bounded(after) if after else "(none)",
                    "column",
                    name,
                    link(name),
                    aspect,
                )
        if depth < MAX_DEPTH and (previous.get("fields") or column.get("fields")):
            yield from _column_changes(
                path,
                f"{name}.",
                _columns(json.dumps(previous.get("fields") or [])) or [],
                _columns(json.dumps(column.get("fields") or [])) or [],
                dsl,
                lines,
                depth + 1,
            )


# -- warnings ------------------------------------------------------------------------------------


def _warnings(entry: dict, resource: ResourceChange, row_counts: RowCounts | None) -> Iterator[PlanWarning]:
    change = entry.get("change") if isinstance(entry.get("change"), dict) else {}
    before = change.get("before") if isinstance(change.get("before"), dict) else {}
    after = change.get("after") if isinstance(change.get("after"), dict) else {}
    action = resource.action
    if resource.resource_type == _TABLE and action in ("delete", "replace"):
        count = None
        project, dataset, table = (str(before.get(key) or "") for key in ("project", "dataset_id", "table_id"))
        if row_counts is not None and project and dataset and table:
            try:
                count = row_counts(project, dataset, table)
            except Exception:  # a count that fails is an unknown count, and the warning says so
                count = None
        verb = "destroyed" if action == "delete" else "replaced (destroyed, then created empty)"
        if count is None:
            yield PlanWarning(
                "data_loss",
                f"{resource.title} will be {verb}; its rows could not be counted, and any it holds are lost",
                resource.address,
                resource.dsl,
            )
        elif count > 0:
            rows = "1 row" if count == 1 else f"{count:,} rows"
            yield PlanWarning(
                "data_loss",
                f"{resource.title} will be {verb} while holding {rows}: they are lost",
                resource.address,
                resource.dsl,
            )
    if resource.resource_type == _IAM_MEMBER and action == "delete":
        yield PlanWarning(
            "iam_removed",
            f"IAM grant removed: {_grant(before)} ({resource.title})",
            resource.address,
            resource.dsl,
        )
    if resource.resource_type == _IAM_BINDING:
        old_members = before.get("members") if isinstance(before.get("members"), list) else []
        new_members = after.get("members") if action != "delete" and isinstance(after.get("members"), list) else []
        removed = [str(m) for m in old_members if m not in new_members]
        if removed:
            who = ", ".join(f"`{_bounded(m)}`" for m in removed[:10])
            more = f" and {len(removed) - 10} more" if len(removed) > 10 else ""
            yield PlanWarning(
                "iam_removed",
                f"IAM grant removed: {_bounded(str(before.get('role') or '?'))} for {who}{more} ({resource.title})",
                resource.address,
                resource.dsl,
            )


def _grant(values: dict) -> str:
    role = _bounded(str(values.get("role") or "?"))
    member = _bounded(str(values.get("member") or "?"))
    on = values.get("service_account") or values.get("bucket") or values.get("project")
    where = f" on `{_bounded(str(on))}`" if on else ""
    return f"{role} for `{member}`{where}"


def _drift_message(resource: ResourceChange) -> str:
    if resource.action == "delete":
        return f"{resource.title} was deleted outside Hangar; this apply creates it again"
    what = resource.summary or "changed"
    return f"{resource.title} was changed outside Hangar ({what}); this apply puts it back"


def _bounded_warnings(warnings: list[PlanWarning]) -> list[PlanWarning]:
    if len(warnings) <= MAX_RESOURCES:
        return warnings
    kept = warnings[:MAX_RESOURCES]
    kept.append(PlanWarning("more", f"… {len(warnings) - MAX_RESOURCES} more warnings", ""))
    return kept


def _groups(changes: list[ResourceChange]) -> list[PlanGroup]:
    groups: dict[str, list[ResourceChange]] = {}
    for resource in changes:
        key = f"dsl:{resource.dsl.module}" if resource.dsl else f"tf:{resource.address}"
        groups.setdefault(key, []).append(resource)
    return [PlanGroup(resources[0].dsl, tuple(resources)) for resources in groups.values()]


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}
