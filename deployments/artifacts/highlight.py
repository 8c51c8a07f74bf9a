"""A small, safe syntax highlighter for showing artifact files.

Text is split into tokens by regular expressions (comments, strings, keywords
and block types, numbers, keys); every token is HTML-escaped and wrapped in a
span whose class names its kind, so nothing inside a file can become markup.
Display only: the tokenizer is forgiving and never fails on odd input."""

import re
from collections.abc import Iterator

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Before a number or keyword there must be no word character, dot or hyphen, so
# `sc-123-example` or `v1.2` stay plain text.
_EDGE_BEFORE = r"(?<![\w.\-])"
_EDGE_AFTER = r"(?![\w.\-])"

_TERRAFORM = re.compile(
    r"""
    (?P<comment>\#[^\n]*|//[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<heredoc><<-?(?P<tag>[A-Za-z_]\w*)[ \t]*\n.*?(?:^[ \t]*(?P=tag)[ \t]*$|\Z))
  | (?P<string>"(?:[^"\\\n]|\\.)*"?)
  | (?P<block>\b[A-Za-z_][\w\-]*(?=[ \t]*(?:"[^"\n]*"[ \t]*)*\{))
  | (?P<attr>\b[A-Za-z_][\w\-]*(?=[ \t]*=(?!=)))
  | (?P<keyword>\b(?:true|false|null|for|in|if|else|endif|endfor)\b)
  | (?P<number>"""
    + _EDGE_BEFORE
    + r"""\d+(?:\.\d+)?(?:[eE][+\-]?\d+)?"""
    + _EDGE_AFTER
    + r""")
    """,
    re.VERBOSE | re.DOTALL | re.MULTILINE,
)

_JSON = re.compile(
    r"""
    (?P<key>"(?:[^"\\\n]|\\.)*"(?=\s*:))
  | (?P<string>"(?:[^"\\\n]|\\.)*"?)
  | (?P<keyword>\b(?:true|false|null)\b)
  | (?P<number>-?\b\d+(?:\.\d+)?(?:[eE][+\-]?\d+)?\b)
    """,
    re.VERBOSE,
)

# YAML: a key at the start of a line (after indentation and list dashes), then the value.
# The key ends in a non-space, so matching stays linear on long runs of spaces.
_YAML_KEY = re.compile(
    r"""^(?P<lead>[ \t]*(?:-[ \t]+)*)
    (?P<key>"[^"\n]*"|'[^'\n]*'|[^\s#'"\[\]{},&*!|>%@`\-](?:[^\n#:]*[^\s#:])?)
    (?P<colon>[ \t]*:)(?=[ \t]|$)""",
    re.VERBOSE,
)
_YAML_VALUE = re.compile(
    r"""
    (?P<comment>(?<!\S)\#.*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"?|'(?:[^'\n]|'')*'?)
  | (?P<keyword>"""
    + _EDGE_BEFORE
    + r"""(?:true|false|null|yes|no|on|off|~)"""
    + _EDGE_AFTER
    + r""")
  | (?P<number>"""
    + _EDGE_BEFORE
    + r"""[+\-]?\d+(?:\.\d+)?"""
    + _EDGE_AFTER
    + r""")
    """,
    re.VERBOSE | re.IGNORECASE,
)

LANGUAGES = {".tf": "terraform", ".yaml": "yaml", ".yml": "yaml", ".json": "json"}
_PATTERNS = {"terraform": _TERRAFORM, "json": _JSON}
_KINDS = ("comment", "heredoc", "key", "string", "block", "attr", "keyword", "number")


def language_for(path: str) -> str | None:
    """The language a file's name says it holds, or None for plain text."""
    for suffix, language in LANGUAGES.items():
        if path.lower().endswith(suffix):
            return language
    return None


def _regex_tokens(pattern: re.Pattern, text: str, start: int = 0) -> Iterator[tuple[str, str]]:
    position = start
    for match in pattern.finditer(text, start):
        if match.start() > position:
            yield "", text[position : match.start()]
        kind = next(name for name in _KINDS if name in pattern.groupindex and match.group(name) is not None)
        yield kind, match.group()
        position = match.end()
    if position < len(text):
        yield "", text[position:]


def _yaml_tokens(text: str) -> Iterator[tuple[str, str]]:
    for number, line in enumerate(text.split("\n")):
        if number:
            yield "", "\n"
        start = 0
        key = _YAML_KEY.match(line)
        if key and not line.lstrip().startswith("#"):
            yield "", key.group("lead")
            yield "key", key.group("key")
            yield "", key.group("colon")
            start = key.end()
        yield from _regex_tokens(_YAML_VALUE, line, start)


def _tokens(text: str, language: str | None) -> Iterator[tuple[str, str]]:
    if language == "yaml":
        return _yaml_tokens(text)
    if language in _PATTERNS:
        return _regex_tokens(_PATTERNS[language], text)
    return iter([("", text)])


def highlight(text: str, language: str | None) -> list[SafeString]:
    """The text as escaped HTML, one string per line, tokens in `<span class="tok-KIND">`."""
    lines: list[list[str]] = [[]]
    for kind, chunk in _tokens(text, language):
        kind = "string" if kind == "heredoc" else kind
        for index, piece in enumerate(chunk.split("\n")):
            if index:
                lines.append([])
            if piece:
                lines[-1].append(f'<span class="tok-{kind}">{escape(piece)}</span>' if kind else escape(piece))
    if text.endswith("\n") and len(lines) > 1:
        lines.pop()
    return [mark_safe("".join(parts)) for parts in lines]
