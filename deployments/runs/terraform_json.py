"""Reading Terraform's machine-readable UI (`-json`): one JSON object per line.

Turns a raw line into what a log line stores, and picks out what a run
records: the plan summary, the resources it touched, the outputs."""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

LEVELS = {"trace", "debug", "info", "warn", "error"}


@dataclass
class ParsedLine:
    at: datetime
    level: str
    type: str
    message: str
    raw: dict[str, Any] | None


def parse_line(text: str, *, default_type: str = "output") -> ParsedLine:
    """A -json line becomes its fields; any other text (init output, stderr) a plain message."""
    text = text.rstrip("\r\n")
    try:
        raw = json.loads(text)
    except ValueError:
        raw = None
    if not isinstance(raw, dict) or "@message" not in raw:
        return ParsedLine(at=timezone.now(), level=_plain_level(text), type=default_type, message=text, raw=None)
    level = raw.get("@level", "info")
    at = parse_datetime(raw.get("@timestamp", "")) or timezone.now()
    return ParsedLine(
        at=at,
        level=level if level in LEVELS else "info",
        type=str(raw.get("type", "log"))[:40],
        message=_message(raw),
        raw=raw,
    )


def _plain_level(text: str) -> str:
    """Levels for text Terraform prints outside its JSON (init, its own log.Printf lines)."""
    if "[DEBUG]" in text or "[TRACE]" in text:
        return "debug"
    if "[WARN]" in text or text.startswith("Warning:"):
        return "warn"
    if "[ERROR]" in text or text.startswith("Error:"):
        return "error"
    return "info"


def _message(raw: dict[str, Any]) -> str:
    message = str(raw.get("@message", ""))
    diagnostic = raw.get("diagnostic")
    if raw.get("type") == "diagnostic" and isinstance(diagnostic, dict):
        detail = diagnostic.get("detail")
        where = diagnostic.get("range") or {}
        if where.get("filename"):
            start = where.get("start") or {}
            message += f" ({where['filename']}:{start.get('line', '?')})"
        if detail:
            message += f"\n{detail}"
    return message


@dataclass
class RunFindings:
    """What a run learns from the lines as they pass."""

    to_add: int | None = None
    to_change: int | None = None
    to_destroy: int | None = None
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    planned: bool = False  # the plan's summary has been seen
    applying: bool = False  # Terraform has started changing things (or found nothing to change)

    def observe(self, line: ParsedLine) -> bool:
        """Update from one line; True when the resource list changed."""
        raw = line.raw or {}
        kind = raw.get("type")
        if kind == "change_summary":
            changes = raw.get("changes") or {}
            if changes.get("operation") in ("plan", "destroy", None):
                self.to_add = int(changes.get("add", 0))
                self.to_change = int(changes.get("change", 0))
                self.to_destroy = int(changes.get("remove", 0))
                self.planned = True
            else:
                self.applying = True
            return False
        if kind == "diagnostic" and line.level == "error":
            self.errors.append(line.message)
            return False
        if kind == "outputs":
            self.outputs = {
                name: ("(sensitive)" if spec.get("sensitive") else spec.get("value"))
                for name, spec in (raw.get("outputs") or {}).items()
            }
            return False
        hook = raw.get("hook") or {}
        resource = (hook.get("resource") or {}).get("addr")
        if kind == "planned_change":
            resource = ((raw.get("change") or {}).get("resource") or {}).get("addr")
            if resource:
                action = (raw.get("change") or {}).get("action", "")
                self.resources.setdefault(resource, {"address": resource})
                self.resources[resource].update(action=action, state="planned")
                return True
            return False
        if not resource:
            return False
        entry = self.resources.setdefault(resource, {"address": resource, "action": hook.get("action", "")})
        if kind == "apply_start":
            self.applying = True
            entry.update(
                state="applying", action=hook.get("action", entry.get("action", "")), started=line.at.isoformat()
            )
        elif kind == "apply_progress":
            entry.update(state="applying", elapsed=hook.get("elapsed_seconds"))
        elif kind == "apply_complete":
            entry.update(state="done", elapsed=hook.get("elapsed_seconds"), id=hook.get("id_value", ""))
        elif kind == "apply_errored":
            entry.update(state="errored", elapsed=hook.get("elapsed_seconds"))
        else:
            return False
        return True

    def resource_list(self) -> list[dict[str, Any]]:
        return list(self.resources.values())
