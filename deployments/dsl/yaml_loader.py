"""Safe, bounded YAML loading that keeps every node's position.

Documents come from users, so: only plain YAML types (no Python object tags),
a size limit on the text, and a limit on how many nodes a walk through the
document may visit. Aliases are shared nodes, so a "billion laughs" document is
small to compose but huge to expand; the visit budget stops it before anything
is expanded, and recursive aliases are refused outright. Nesting is bounded
while composing (PyYAML's composer recurses once per level, so a deep document
would otherwise end in RecursionError), and integers are bounded in length
(Python refuses to convert more than 4,300 digits).
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.composer import ComposerError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from deployments.dsl.errors import DslError, DslProblem

TAG_PREFIX = "tag:yaml.org,2002:"
PLAIN_TAGS = {f"{TAG_PREFIX}{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")}
MERGE_TAG = f"{TAG_PREFIX}merge"
INT_TAG = f"{TAG_PREFIX}int"


@dataclass(frozen=True)
class YamlLimits:
    max_bytes: int = 1_000_000
    # Nodes visited when every alias is followed: a generous budget for real files.
    max_nodes: int = 100_000
    max_depth: int = 64
    # Digits in one integer; real configuration never comes close.
    max_int_digits: int = 100


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose composer stops at a nesting depth instead of recursing without end."""

    max_depth = YamlLimits.max_depth
    _depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > self.max_depth + 1:
                raise ComposerError(
                    None, None, f"nesting deeper than {self.max_depth} levels", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def position(node: Node) -> tuple[int, int]:
    """1-based (line, column) of a node."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def problem_at(filename: str, node: Node, message: str) -> DslProblem:
    line, column = position(node)
    return DslProblem(filename, line, column, message)


def load_yaml(*, text: str | bytes, filename: str, limits: YamlLimits | None = None) -> Node | None:
    """Compose one YAML document into nodes (None for an empty file), or raise DslError."""
    limits = limits or YamlLimits()
    size = len(text.encode() if isinstance(text, str) else text)
    if size > limits.max_bytes:
        raise DslError([DslProblem(filename, 1, 1, f"file is {size} bytes; at most {limits.max_bytes} are allowed")])
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DslError(
                [DslProblem(filename, 1, 1, f"file is not UTF-8 text ({exc.reason} at byte {exc.start})")]
            ) from None
    loader = _BoundedLoader(text)
    loader.max_depth = limits.max_depth
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        raise DslError([DslProblem(filename, line, column, f"invalid YAML: {what}")]) from None
    except yaml.YAMLError as exc:
        raise DslError([DslProblem(filename, 1, 1, f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if root is not None:
        _check_graph(root, filename, limits)
    return root


def _check_graph(root: Node, filename: str, limits: YamlLimits) -> None:
    problems: list[DslProblem] = []
    visits = 0
    on_path: set[int] = set()

    def walk(node: Node, depth: int) -> None:
        nonlocal visits
        visits += 1
        if visits > limits.max_nodes:
            raise DslError(
                [problem_at(filename, root, f"document expands to more than {limits.max_nodes} nodes (alias bomb?)")]
            )
        if depth > limits.max_depth:
            raise DslError([problem_at(filename, node, f"nesting deeper than {limits.max_depth} levels")])
        if node.tag not in PLAIN_TAGS and node.tag != MERGE_TAG:
            problems.append(
                problem_at(filename, node, f"tag '{node.tag}' is not allowed; only plain YAML values are accepted")
            )
            return
        if isinstance(node, ScalarNode):
            if node.tag == INT_TAG:
                digits = sum(char.isdigit() for char in node.value)
                if digits > limits.max_int_digits:
                    problems.append(
                        problem_at(
                            filename,
                            node,
                            f"an integer of {digits} digits is too long; at most {limits.max_int_digits} digits",
                        )
                    )
            return
        if id(node) in on_path:
            raise DslError([problem_at(filename, node, "an alias refers to the node that contains it (recursive)")])
        on_path.add(id(node))
        children = node.value if isinstance(node, SequenceNode) else [n for pair in node.value for n in pair]
        for child in children:
            walk(child, depth + 1)
        on_path.discard(id(node))

    walk(root, 0)
    if problems:
        raise DslError(problems)


_constructor = SafeConstructor()


def scalar_value(node: ScalarNode) -> object:
    """The Python value of a scalar; dates stay the text the user wrote."""
    if node.tag == f"{TAG_PREFIX}timestamp":
        return node.value
    return _constructor.construct_object(node, deep=True)


def mapping_pairs(node: MappingNode, filename: str, problems: list[DslProblem]) -> list[tuple[ScalarNode, Node]]:
    """Key/value pairs with `<<` merges applied; explicit keys win, duplicates are problems."""
    explicit: list[tuple[Node, Node]] = []
    merged: list[tuple[Node, Node]] = []
    for key, value in node.value:
        if key.tag == MERGE_TAG:
            sources = value.value if isinstance(value, SequenceNode) else [value]
            for source in sources:
                if isinstance(source, MappingNode):
                    merged.extend(mapping_pairs(source, filename, problems))
                else:
                    problems.append(problem_at(filename, source, "'<<' merges only mappings"))
        else:
            explicit.append((key, value))
    pairs: dict[object, tuple[ScalarNode, Node]] = {}
    for key, value in explicit:
        if not isinstance(key, ScalarNode):
            problems.append(problem_at(filename, key, "keys must be plain strings, not lists or mappings"))
            continue
        if key.value in pairs:
            first_line, _ = position(pairs[key.value][0])
            problems.append(
                problem_at(filename, key, f"duplicate key '{key.value}' (first given on line {first_line})")
            )
            continue
        pairs[key.value] = (key, value)
    for key, value in merged:
        pairs.setdefault(key.value, (key, value))
    return list(pairs.values())


def plain_value(node: Node, filename: str, problems: list[DslProblem]) -> object:
    """A node as plain Python data (graph already bounded by load_yaml)."""
    if isinstance(node, ScalarNode):
        return scalar_value(node)
    if isinstance(node, SequenceNode):
        return [plain_value(child, filename, problems) for child in node.value]
    return {key.value: plain_value(value, filename, problems) for key, value in mapping_pairs(node, filename, problems)}
