"""A small HCL writer whose output is already in `terraform fmt` style.

fmt aligns the `=` of consecutive single-line attributes at one level; a
multi-line value or a blank line ends such a run. Object keys are
bare when HCL reads them as plain text and quoted otherwise (e.g.
`apache-airflow[google]`), and text is escaped so `${` and `%{` never start a template.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

INDENT = "  "
BARE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# Words that would read as a literal or start a `for` expression if left bare.
RESERVED_KEYS = {"true", "false", "null", "for", "in", "if"}


@dataclass(frozen=True)
class Expr:
    """A Terraform expression written as is, e.g. `module.x.id` or `file(...)`."""

    code: str


@dataclass(frozen=True)
class Blank:
    """An empty line between groups of attributes."""


@dataclass(frozen=True)
class Attribute:
    name: str
    value: object


@dataclass
class Block:
    type: str
    labels: Sequence[str] = ()
    body: list[Attribute | Block | Blank] = field(default_factory=list)


def quote(text: str) -> str:
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    # A literal "${" or "%{" would start an interpolation or directive; doubling escapes it.
    return '"' + "".join(out).replace("${", "$${").replace("%{", "%%{") + '"'


def object_key(key: str) -> str:
    """A bare key where HCL reads it as plain text, quoted otherwise (e.g. 'core.x', 'null', 'for')."""
    return key if BARE_KEY.fullmatch(key) and key not in RESERVED_KEYS else quote(key)


def value_lines(value: object, depth: int) -> list[str]:
    """A value as lines of text; the first line has no indentation of its own."""
    if isinstance(value, Expr):
        return [value.code]
    if value is None:
        return ["null"]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, int | float):
        return [json.dumps(value)]
    if isinstance(value, str):
        return [quote(value)]
    if isinstance(value, Mapping):
        if not value:
            return ["{}"]
        return [
            "{",
            *body_lines([Attribute(object_key(str(k)), v) for k, v in value.items()], depth + 1),
            INDENT * depth + "}",
        ]
    if isinstance(value, Sequence):
        items = [value_lines(item, depth + 1) for item in value]
        if all(len(lines) == 1 for lines in items):
            return ["[" + ", ".join(lines[0] for lines in items) + "]"]
        raise ValueError("lists of multi-line values are not needed by the compiler")
    raise TypeError(f"cannot write {type(value).__name__} as HCL")


def body_lines(body: Sequence[Attribute | Block | Blank], depth: int) -> list[str]:
    indent = INDENT * depth
    lines: list[str] = []
    run: list[tuple[str, str]] = []  # single-line attributes waiting to be aligned

    def flush() -> None:
        width = max((len(name) for name, _ in run), default=0)
        lines.extend(f"{indent}{name.ljust(width)} = {text}" for name, text in run)
        run.clear()

    for item in body:
        if isinstance(item, Blank):
            flush()
            lines.append("")
        elif isinstance(item, Block):
            flush()
            lines.extend(block_lines(item, depth))
        else:
            rendered = value_lines(item.value, depth)
            if len(rendered) == 1:
                run.append((item.name, rendered[0]))
            else:
                flush()
                lines.append(f"{indent}{item.name} = {rendered[0]}")
                lines.extend(rendered[1:])
    flush()
    return lines


def block_lines(block: Block, depth: int) -> list[str]:
    indent = INDENT * depth
    head = " ".join([block.type, *(quote(label) for label in block.labels)])
    if not block.body:
        return [f"{indent}{head} {{}}"]
    return [f"{indent}{head} {{", *body_lines(block.body, depth + 1), f"{indent}}}"]


def render_file(blocks: Sequence[Block], *, header: str = "") -> str:
    """Top-level blocks separated by one blank line, with an optional comment header."""
    parts = [header.rstrip("\n")] if header else []
    parts.extend("\n".join(block_lines(block, 0)) for block in blocks)
    return "\n\n".join(parts) + "\n"
