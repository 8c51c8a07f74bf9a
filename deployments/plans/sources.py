"""Where the DSL defines each object: module labels (as the compiler names them) → main.yaml lines.

The YAML is read with the DSL's own loader (`deployments.dsl.yaml_loader`), so lines are those of
the nodes, anchors and merges included, never found by searching the text. Schema JSON files are
read with the validator's position-keeping parser, to link a column to its line."""

from __future__ import annotations

import re
from dataclasses import dataclass

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from deployments.dsl.compiler import label_part, table_label
from deployments.dsl.errors import DslError
from deployments.dsl.validation import _json_with_offsets, _line_column
from deployments.dsl.yaml_loader import load_yaml, mapping_pairs, position, scalar_value

INFRASTRUCTURE = "infrastructure/"
SCHEMA_PREFIX = "file:"


@dataclass(frozen=True)
class DslObject:
    """One object of main.yaml, as a person knows it."""

    kind: str  # table, dataset, composer, service_account, impersonation, shared_member, composer_user
    name: str  # e.g. "kpis_reporting.deployments_daily" for a table
    module: str  # the module label the compiler wrote, e.g. "table_kpis_reporting--deployments_daily"
    path: str | None = None  # the main.yaml that defines it (a key of `sources`)
    line: int | None = None  # 1-based line in `path`
    schema_file: str | None = None  # tables: the schema's path in the artifact, infrastructure/bq_schemas/…

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def title(self) -> str:
        """e.g. "table `kpis_reporting.deployments_daily`"."""
        return f"{self.kind_label} `{self.name}`"


KIND_LABELS = {
    "table": "table",
    "dataset": "dataset",
    "composer": "composer",
    "service_account": "service account",
    "impersonation": "impersonation",
    "shared_member": "shared composer member",
    "composer_user": "Composer User grant",
}


# Module labels the compiler writes (docs/dsl.md "Module names"), most specific first.
_LABELS = (
    ("composer_user", re.compile(r"^composer_user_(?P<name>.+)$")),
    ("composer", re.compile(r"^composer_(?P<name>.+)$")),
    ("table", re.compile(r"^table_(?P<dataset>[A-Za-z0-9_]+)--(?P<table>[A-Za-z0-9_]+)$")),
    ("dataset", re.compile(r"^dataset_(?P<name>.+)$")),
    ("impersonation", re.compile(r"^impersonation_(?P<account>[a-z0-9-]+)_by_(?P<who>.+)$")),
    ("service_account", re.compile(r"^service_account_(?P<name>.+)$")),
    ("shared_member", re.compile(r"^member_(?P<name>sc-.+)_(?:account|impersonation|dags)$")),
)


def object_from_label(label: str) -> DslObject | None:
    """The DSL object a module label names, from the label alone (no line)."""
    for kind, pattern in _LABELS:
        found = pattern.match(label)
        if not found:
            continue
        parts = found.groupdict()
        if kind == "table":
            name = f"{parts['dataset']}.{parts['table']}"
        elif kind == "impersonation":
            name = f"{parts['account']} by {parts['who']}"
        else:
            name = parts["name"]
        return DslObject(kind=kind, name=name, module=label)
    return None


def dsl_objects(text: str, filename: str) -> dict[str, DslObject]:
    """Every object main.yaml defines, by the module label it compiles to; {} if it does not load."""
    try:
        root = load_yaml(text=text, filename=filename)
    except DslError:
        return {}
    problems: list = []
    found: dict[str, DslObject] = {}

    def fields(node: Node | None) -> dict[str, Node]:
        if not isinstance(node, MappingNode):
            return {}
        return {str(key.value): value for key, value in mapping_pairs(node, filename, problems)}

    def items(node: Node | None) -> list[Node]:
        return list(node.value) if isinstance(node, SequenceNode) else []

    def text_of(node: Node | None) -> str | None:
        if isinstance(node, ScalarNode):
            value = scalar_value(node)
            if isinstance(value, str | int) and not isinstance(value, bool):
                return str(value)
        return None

    def add(kind: str, name: str, label: str, node: Node, **extra: object) -> None:
        found.setdefault(
            label, DslObject(kind=kind, name=name, module=label, path=filename, line=position(node)[0], **extra)
        )

    gcp = fields(fields(fields(root).get("infrastructure")).get("gcp"))
    for item in items(gcp.get("composers")):
        composer = fields(item)
        name = text_of(composer.get("name"))
        if name is None:
            continue
        add("composer", name, f"composer_{name}", item)
        shared = fields(composer.get("shared"))
        for member_node in items(shared.get("members")):
            member = fields(member_node)
            project, group = text_of(member.get("project")), text_of(member.get("group"))
            if project:
                for suffix in ("account", "impersonation", "dags"):
                    add("shared_member", project, f"member_{project}_{suffix}", member_node)
            if group:
                add("composer_user", group, f"composer_user_{label_part(group)}", member.get("group"))
    for item in items(gcp.get("service_accounts")):
        account = fields(item)
        name = text_of(account.get("name"))
        if name is None:
            continue
        add("service_account", name, f"service_account_{name}", item)
        for who_node in items(account.get("impersonated_by")):
            who = text_of(who_node)
            if who is None:
                continue
            suffix = who.removeprefix("composer:") if who.startswith("composer:") else label_part(who)
            add("impersonation", f"{name} by {who}", f"impersonation_{name}_by_{suffix}", who_node)
    for item in items(gcp.get("datasets")):
        dataset = fields(item)
        name = text_of(dataset.get("name"))
        if name is None:
            continue
        add("dataset", name, f"dataset_{name}", item)
        for table_node in items(dataset.get("tables")):
            table = fields(table_node)
            table_name = text_of(table.get("name"))
            if table_name is None:
                continue
            schema = text_of(fields(table.get("parameters")).get("schema")) or ""
            schema_file = None
            if schema.startswith(SCHEMA_PREFIX):
                schema_file = INFRASTRUCTURE + schema.removeprefix(SCHEMA_PREFIX).strip()
            add(
                "table",
                f"{name}.{table_name}",
                table_label(name, table_name),
                table_node,
                schema_file=schema_file,
            )
    return found


def column_lines(text: str) -> dict[str, int]:
    """Lines of a BigQuery JSON schema's columns: {"meta.source": 12}; {} if it does not parse."""
    try:
        fields, offsets = _json_with_offsets(text)
    except (ValueError, RecursionError):
        return {}
    lines: dict[str, int] = {}

    def walk(entries: object, parent: str, depth: int) -> None:
        if not isinstance(entries, list) or depth > 20:
            return
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                name = f"{parent}.{entry['name']}" if parent else entry["name"]
                if id(entry) in offsets:
                    lines[name] = _line_column(text, offsets[id(entry)])[0]
                walk(entry.get("fields"), name, depth + 1)

    walk(fields, "", 1)
    return lines
