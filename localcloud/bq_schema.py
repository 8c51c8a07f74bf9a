"""BigQuery JSON schemas: parsing, validation and the SQLite columns that hold them."""

import json
import re
from typing import Any

from localcloud.bq_types import FIELD_KEYS, MAX_DEPTH, MODES, TYPE_ALIASES, TYPES
from localcloud.errors import InvalidValue

FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,299}$")
# Words after the BigQuery type in a column's declared SQLite type choose SQLite's storage
# affinity, so that strings stay strings ("00123") and JSON for RECORD/REPEATED stays text.
_AFFINITY = {"STRING": "TEXT", "BYTES": "BLOB", "INTEGER": "", "FLOAT": "", "BOOLEAN": ""}
PARTITION_COLUMN_TYPES = ("DATE", "TIMESTAMP", "DATETIME")
PARTITION_TYPES = ("DAY", "HOUR", "MONTH", "YEAR")
CLUSTER_COLUMN_TYPES = (
    "DATE",
    "BOOLEAN",
    "GEOGRAPHY",
    "INTEGER",
    "NUMERIC",
    "BIGNUMERIC",
    "STRING",
    "TIMESTAMP",
    "DATETIME",
)
INGESTION_TIME_COLUMN = "_PARTITIONTIME"


def parse_schema(text: Any, field: str = "schema") -> list[dict]:
    """Parse schema JSON text (or an already parsed list) into canonical fields."""
    if isinstance(text, str):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidValue(field, text[:80], f"the schema must be JSON (a list of fields): {exc}") from exc
    else:
        data = text
    if isinstance(data, dict) and "fields" in data:  # accept {"fields": [...]} as bq does
        data = data["fields"]
    return _parse_fields(data, field, depth=1)


def _parse_fields(data: Any, path: str, depth: int) -> list[dict]:
    if not isinstance(data, list) or not data:
        raise InvalidValue(
            path, data, "expected a non-empty JSON list of fields {name, type, mode, description, fields}"
        )
    if depth > MAX_DEPTH:
        raise InvalidValue(path, f"depth {depth}", f"RECORD fields nest at most {MAX_DEPTH} levels")
    seen: set[str] = set()
    fields = []
    for index, item in enumerate(data):
        here = f"{path}[{index}]"
        if not isinstance(item, dict):
            raise InvalidValue(here, item, "each field is a JSON object with at least name and type")
        unknown = sorted(set(item) - FIELD_KEYS)
        if unknown:
            raise InvalidValue(f"{here}.{unknown[0]}", unknown[0], f"allowed keys: {', '.join(sorted(FIELD_KEYS))}")
        name = item.get("name")
        if not isinstance(name, str) or not FIELD_NAME.fullmatch(name):
            raise InvalidValue(
                f"{here}.name", name, "a column name is letters, digits and underscores, not starting with a digit"
            )
        if name.lower() in seen:
            raise InvalidValue(f"{here}.name", name, "column names must be unique (case-insensitively)")
        seen.add(name.lower())
        here = f"{path}[{index}] ({name})"
        raw_type = item.get("type")
        col_type = TYPE_ALIASES.get(str(raw_type).upper(), str(raw_type).upper()) if raw_type else None
        if col_type not in TYPES:
            allowed = ", ".join(TYPES + tuple(TYPE_ALIASES))
            raise InvalidValue(f"{here}.type", raw_type, f"allowed types: {allowed}")
        mode = str(item.get("mode") or "NULLABLE").upper()
        if mode not in MODES:
            raise InvalidValue(f"{here}.mode", item.get("mode"), f"allowed modes: {', '.join(MODES)}")
        description = item.get("description") or ""
        if not isinstance(description, str):
            raise InvalidValue(f"{here}.description", description, "a description is a string")
        canonical: dict = {"name": name, "type": col_type, "mode": mode}
        if description:
            canonical["description"] = description
        if col_type == "RECORD":
            canonical["fields"] = _parse_fields(item.get("fields"), f"{here}.fields", depth + 1)
        elif item.get("fields"):
            raise InvalidValue(f"{here}.fields", "fields", "only RECORD (STRUCT) columns have nested fields")
        fields.append(canonical)
    return fields


def dumps(fields: list[dict], configured: str | None = None) -> str:
    """The text the provider reports when reality differs from the configured schema.

    Columns that still match the configuration keep the configuration's spelling, so the
    plan's diff shows only what really changed."""
    as_written: dict[str, Any] = {}
    try:
        raw = json.loads(configured) if configured else []
        raw = raw["fields"] if isinstance(raw, dict) else raw
        for item in raw:
            as_written[item["name"]] = item
    except (ValueError, TypeError, KeyError):
        as_written = {}
    out = []
    for column in fields:
        item = as_written.get(column["name"])
        try:
            same = item is not None and _parse_fields([item], "schema", 1)[0] == column
        except InvalidValue:
            same = False
        out.append(item if same else column)
    return json.dumps(out, indent=2)


def same_schema(text: str | None, fields: list[dict]) -> bool:
    if not text:
        return False
    try:
        return parse_schema(text) == fields
    except InvalidValue:
        return False


def declared_type(column: dict) -> str:
    """`STRING`, `INTEGER REPEATED TEXT`, ...: the BigQuery type and mode, then SQLite's affinity."""
    words = [column["type"]]
    if column["mode"] == "REPEATED":
        words.append("REPEATED")
    affinity = "TEXT" if column["mode"] == "REPEATED" else _AFFINITY.get(column["type"], "TEXT")
    if affinity:
        words.append(affinity)
    return " ".join(words)


def column_from_sqlite(name: str, declared: str, not_null: bool) -> dict:
    """What a column outside our metadata looks like as a BigQuery field."""
    words = declared.upper().split()
    col_type = TYPE_ALIASES.get(words[0], words[0]) if words else "STRING"
    if col_type not in TYPES:
        col_type = "STRING"
    mode = "REPEATED" if "REPEATED" in words else ("REQUIRED" if not_null else "NULLABLE")
    column = {"name": name, "type": col_type, "mode": mode}
    if col_type == "RECORD":
        column["fields"] = [{"name": "value", "type": "JSON", "mode": "NULLABLE"}]
    return column


def column_ddl(column: dict) -> str:
    ddl = f"{quote(column['name'])} {declared_type(column)}"
    if column["mode"] == "REQUIRED":
        ddl += " NOT NULL"
    return ddl


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def validate_partitioning(
    value: dict | None, fields: list[dict] | None, field: str = "time_partitioning"
) -> dict | None:
    if not value:
        return None
    unknown = sorted(set(value) - {"type", "field", "expiration_ms"})
    if unknown:
        raise InvalidValue(f"{field}.{unknown[0]}", unknown[0], "allowed keys: type, field, expiration_ms")
    kind = str(value.get("type") or "DAY").upper()
    if kind not in PARTITION_TYPES:
        raise InvalidValue(f"{field}.type", value.get("type"), f"allowed: {', '.join(PARTITION_TYPES)}")
    result = {"type": kind}
    column_name = value.get("field") or ""
    if column_name and fields is not None:
        column = next((c for c in fields if c["name"] == column_name), None)
        if column is None:
            names = ", ".join(c["name"] for c in fields)
            raise InvalidValue(f"{field}.field", column_name, f"must be a top-level column of the schema ({names})")
        if column["type"] not in PARTITION_COLUMN_TYPES or column["mode"] == "REPEATED":
            raise InvalidValue(
                f"{field}.field",
                f"{column_name} ({column['mode']} {column['type']})",
                f"a partitioning column is a non-repeated {', '.join(PARTITION_COLUMN_TYPES)} column",
            )
    if column_name:
        result["field"] = column_name
    if value.get("expiration_ms"):
        if not str(value["expiration_ms"]).isdigit():
            raise InvalidValue(f"{field}.expiration_ms", value["expiration_ms"], "milliseconds as a whole number")
        result["expiration_ms"] = str(value["expiration_ms"])
    return result


def validate_clustering(columns: list[str] | None, fields: list[dict] | None, field: str = "clustering") -> list[str]:
    columns = list(columns or [])
    if len(columns) > 4:
        raise InvalidValue(field, columns, "at most 4 clustering columns are allowed")
    if fields is None:
        return columns
    by_name = {c["name"]: c for c in fields}
    for index, name in enumerate(columns):
        column = by_name.get(name)
        if column is None:
            raise InvalidValue(f"{field}[{index}]", name, f"must be a top-level column ({', '.join(by_name)})")
        if column["type"] not in CLUSTER_COLUMN_TYPES or column["mode"] == "REPEATED":
            raise InvalidValue(
                f"{field}[{index}]",
                f"{name} ({column['mode']} {column['type']})",
                f"a clustering column is a non-repeated {', '.join(CLUSTER_COLUMN_TYPES)} column",
            )
    return columns
