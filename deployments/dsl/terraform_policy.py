"""The policy for plain Terraform in an artifact (design.md, "Safety rules").

Terraform in an artifact runs on a worker, so advanced users' `*.tf` files and
the modules bundled in an artifact are parsed and checked before anything runs:
no provisioners, no `external` (or `terraform_remote_state`) data sources,
module sources only from the modules bundled for the target, and provider and
backend configuration only from Hangar. Violations are DslProblems with the
file and line, like DSL errors.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal

from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from deployments.dsl.errors import DslProblem, quoted_list
from deployments.dsl.targets import get_target
from deployments.dsl.terraform_guards import TEMPLATE_SUFFIX, IsolationChecker, unchecked_terraform_file

Role = Literal["environment", "module"]

ENVIRONMENT_BLOCKS = ("resource", "data", "module", "variable", "output", "locals")
MODULE_BLOCKS = (*ENVIRONMENT_BLOCKS, "terraform")
MODULE_TERRAFORM_SETTINGS = ("required_providers", "required_version")
FORBIDDEN_DATA_SOURCES = {
    "external": "runs a program on the worker",
    "terraform_remote_state": "reads another configuration's state",
}
RESERVED_ENVIRONMENT_FILES = ("backend.tf", "providers.tf")
MAX_TERRAFORM_BYTES = 1_000_000


@dataclass
class PolicyReport:
    problems: list[DslProblem] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)  # bundled modules the files call


def check_terraform_files(
    *,
    files: Mapping[str, str | bytes],
    role: Role,
    target: str,
    bundled_modules: Collection[str],
    project_id: str | None = None,
    other_project_ids: Collection[str] = (),
) -> PolicyReport:
    """Check Terraform files (display path → text) of one environment folder or one bundled module.

    `project_id` is the environment's own cloud project: literal project ids must be it (or one of
    `other_project_ids`). Without it, an environment's project ids are not checked; a module's always
    are (it may hold none). `.tftpl` files among `files` are checked as templates (terraform_guards)."""
    report = PolicyReport()
    isolation = {"project_id": project_id, "other_project_ids": other_project_ids}
    for path, text in sorted(files.items()):
        _check_file(path, text, role=role, target=target, bundled_modules=bundled_modules, report=report, **isolation)
    return report


def _check_file(
    path: str,
    text: str | bytes,
    *,
    role: Role,
    target: str,
    bundled_modules: Collection[str],
    report: PolicyReport,
    project_id: str | None,
    other_project_ids: Collection[str],
) -> None:
    def problem(line: int, column: int, message: str) -> None:
        report.problems.append(DslProblem(path, line, column, message))

    unchecked = unchecked_terraform_file(path)
    if unchecked:
        problem(1, 1, unchecked)
        return
    if len(text) > MAX_TERRAFORM_BYTES:
        problem(1, 1, f"file is {len(text)} bytes; at most {MAX_TERRAFORM_BYTES} are allowed")
        return
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            problem(1, 1, "file is not UTF-8 text")
            return
    isolation = IsolationChecker(problem=problem, role=role, project_id=project_id, other_project_ids=other_project_ids)
    if path.endswith(TEMPLATE_SUFFIX):
        isolation.template(text, None, 1)
        return
    tree = _parse(text, path, report)
    if tree is None:
        return
    isolation.walk(tree)
    allowed = ENVIRONMENT_BLOCKS if role == "environment" else MODULE_BLOCKS
    for block in _blocks(tree):
        kind, labels = _block_head(block)
        line, column = block.meta.line, block.meta.column
        if kind == "provider":
            problem(line, column, "provider blocks are not allowed: Hangar supplies the provider configuration")
        elif kind == "terraform" and role == "environment":
            problem(
                line,
                column,
                "terraform blocks are not allowed here: Hangar supplies the backend and the required providers",
            )
        elif kind not in allowed:
            problem(line, column, f"block type '{kind}' is not allowed; allowed: {quoted_list(allowed)}")
        elif kind == "terraform":
            for setting in _blocks(block):
                name, _ = _block_head(setting)
                if name not in MODULE_TERRAFORM_SETTINGS:
                    problem(
                        setting.meta.line,
                        setting.meta.column,
                        f"'{name}' is not allowed in a module's terraform block; allowed: "
                        f"{quoted_list(MODULE_TERRAFORM_SETTINGS)} (Hangar supplies the backend)",
                    )
        elif kind == "data" and labels and labels[0] in FORBIDDEN_DATA_SOURCES:
            problem(
                line,
                column,
                f"data source '{labels[0]}' is not allowed: it {FORBIDDEN_DATA_SOURCES[labels[0]]}",
            )
        elif kind == "module":
            _check_module_source(block, role, target, bundled_modules, report, problem)
        for nested in _nested_blocks(block):
            name, _ = _block_head(nested)
            if name == "provisioner":
                problem(
                    nested.meta.line,
                    nested.meta.column,
                    "provisioners are not allowed: they run commands on the worker; use resources of the provider",
                )


def _check_module_source(block: Tree, role: Role, target: str, bundled_modules, report: PolicyReport, problem) -> None:
    source_attribute = next((a for a in _attributes(_body(block)) if _name(a) == "source"), None)
    modules_root = get_target(target).module_source("")
    expected = f"{modules_root}<name>" if role == "environment" else "../<name>"
    if source_attribute is None:
        problem(block.meta.line, block.meta.column, f'module needs a source: "{expected}"')
        return
    source = _literal_string(source_attribute.children[-1])
    line, column = source_attribute.meta.line, source_attribute.meta.column
    if source is None:
        problem(line, column, f'module source must be a plain string such as "{expected}"')
        return
    prefix = modules_root if role == "environment" else "../"
    name = source.removeprefix(prefix) if source.startswith(prefix) else None
    if name is None or not re.fullmatch(r"[a-z0-9_]+", name):
        problem(
            line,
            column,
            f"module source '{source}' is not allowed: only modules bundled with Hangar, \"{expected}\" "
            f"(bundled: {quoted_list(sorted(bundled_modules))})",
        )
    elif name not in bundled_modules:
        problem(
            line,
            column,
            f"module '{name}' is not bundled for target '{target}'; bundled: {quoted_list(sorted(bundled_modules))}",
        )
    else:
        report.modules.add(name)


def _parse(text: str, path: str, report: PolicyReport) -> Tree | None:
    from hcl2.api import parses_to_tree  # imported late: building the parser takes a moment

    try:
        return parses_to_tree(text)
    except UnexpectedInput as exc:
        found = getattr(exc, "token", None)
        first_line = str(found).split("\n")[0].strip()
        shown = f"'{first_line}'" if first_line else "line break"
        what = f": unexpected {shown}" if found is not None else ""
        report.problems.append(DslProblem(path, exc.line or 1, exc.column or 1, f"invalid Terraform syntax{what}"))
    except LarkError as exc:
        report.problems.append(DslProblem(path, 1, 1, f"invalid Terraform syntax: {exc}"))
    return None


def _body(tree: Tree) -> Tree:
    if tree.data == "start":
        return tree.children[0]
    return next(child for child in tree.children if isinstance(child, Tree) and child.data == "body")


def _blocks(tree: Tree) -> list[Tree]:
    return [child for child in _body(tree).children if isinstance(child, Tree) and child.data == "block"]


def _attributes(body: Tree) -> list[Tree]:
    return [child for child in body.children if isinstance(child, Tree) and child.data == "attribute"]


def _nested_blocks(block: Tree) -> list[Tree]:
    found = []
    for child in _blocks(block):
        found.append(child)
        found.extend(_nested_blocks(child))
    return found


def _name(tree: Tree) -> str:
    head = tree.children[0]
    return "".join(str(token) for token in head.scan_values(lambda v: isinstance(v, Token)))


def _block_head(block: Tree) -> tuple[str, list[str]]:
    labels = []
    for child in block.children[1:]:
        if isinstance(child, Tree) and child.data == "string":
            labels.append(_string_text(child) or "")
        elif isinstance(child, Tree) and child.data == "identifier":
            labels.append(_name(Tree("x", [child])))
        elif isinstance(child, Token):
            break
    return _name(block), labels


def _string_text(tree: Tree) -> str | None:
    """The text of a string literal, or None if it interpolates anything."""
    parts = []
    for child in tree.children:
        if isinstance(child, Tree) and child.data == "string_part":
            if any(isinstance(part, Tree) for part in child.children):
                return None
            parts.extend(str(part) for part in child.children)
    return "".join(parts)


def _literal_string(expression: Tree | Token) -> str | None:
    node = expression
    while isinstance(node, Tree) and node.data == "expr_term" and len(node.children) == 1:
        node = node.children[0]
    if isinstance(node, Tree) and node.data == "string":
        return _string_text(node)
    return None
