"""Offline checks of Terraform for the gcp target, against the provider schema extract.

- `check_module_files`: every `google_*` resource block of a module (and the provider block of a
  providers.tf) against the schema: unknown arguments or blocks, missing required ones, literal values
  of the wrong type, too many or too few nested blocks (`dynamic` blocks count as any number),
  arguments the provider only computes, and references to resource attributes that do not exist.
- `check_environment_files`: every module call of compiled (or hand-written) environment Terraform
  against the called module's variables and outputs: unknown or missing inputs, literals of the wrong
  type, and references `module.<call>.<output>` to calls or outputs that do not exist.

Problems are DslProblems (file, line, column, message), like the DSL's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lark import Token, Tree

from deployments.dsl.errors import DslProblem, did_you_mean, quoted_list
from deployments.dsl.gcp_schema import load_schema
from deployments.dsl.terraform_policy import PolicyReport, _attributes, _block_head, _blocks, _name, _parse

RESOURCE_META_ARGUMENTS = {"count", "for_each", "depends_on", "provider"}
RESOURCE_META_BLOCKS = {"lifecycle", "connection", "provisioner"}
MODULE_META_ARGUMENTS = {"source", "version", "count", "for_each", "depends_on", "providers"}
PROVIDER_META_ARGUMENTS = {"alias", "version"}
RESOURCE_REFERENCE = re.compile(
    r"\b(google_[a-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_-]*)((?:\[[^\]]*\]|\.[A-Za-z_][A-Za-z0-9_]*)*)"
)
MODULE_REFERENCE = re.compile(r"\bmodule\.([A-Za-z_][A-Za-z0-9_-]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?")


# -- literal values -------------------------------------------------------------------------------


def _unwrap(node: Tree | Token) -> Tree | Token:
    while isinstance(node, Tree) and node.data == "expr_term" and len(node.children) == 1:
        node = node.children[0]
    return node


def _literal_kind(node: Tree | Token) -> tuple[str, str] | None:
    """("string", text) / ("number", text) / ("bool", text) / ("null", "") / ("tuple", "") / ("object", "")
    for a literal; None for anything computed (references, functions, templates, operators)."""
    node = _unwrap(node)
    if isinstance(node, Token):
        return None
    if node.data == "string":
        text = []
        for part in node.children:
            if isinstance(part, Tree) and part.data == "string_part":
                if any(isinstance(p, Tree) for p in part.children):
                    return None
                text.extend(str(p) for p in part.children)
        return "string", "".join(text)
    if node.data in ("int_lit", "float_lit"):
        return "number", str(node.children[0])
    if node.data == "literal_value":
        value = str(node.children[0])
        return ("null", "") if value == "null" else ("bool", value)
    if node.data == "tuple":
        return "tuple", ""
    if node.data == "object":
        return "object", ""
    return None


def type_problem(expected: str, node: Tree | Token) -> str | None:
    """Why a literal cannot be a value of the Terraform type `expected`, or None when it can (or is not
    a literal). Follows Terraform's conversions: numbers and bools convert to strings and back."""
    literal = _literal_kind(node)
    if literal is None or literal[0] == "null" or expected in ("any", ""):
        return None
    kind, text = literal
    shown = {"string": f'the string "{text}"', "number": f"the number {text}", "bool": f"{text}"}.get(
        kind, "a list" if kind == "tuple" else "an object"
    )
    base = expected.split("(")[0]
    if base == "string" and kind in ("tuple", "object"):
        return f"{shown} is not a string"
    if base == "number":
        if kind == "number" or (kind == "string" and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text)):
            return None
        return f"{shown} is not a number"
    if base == "bool":
        if kind == "bool" or (kind == "string" and text in ("true", "false")):
            return None
        return f"{shown} is not true or false"
    if base in ("list", "set") and kind != "tuple":
        return f"{shown} is not a list"
    if base in ("map", "object") and kind != "object":
        return f"{shown} is not a map"
    return None


# -- resources against the provider schema --------------------------------------------------------


@dataclass
class _Checker:
    path: str
    problems: list[DslProblem] = field(default_factory=list)

    def add(self, node: Tree, message: str) -> None:
        self.problems.append(DslProblem(self.path, node.meta.line, node.meta.column, message))


def _check_body(checker: _Checker, block: Tree, schema: dict, where: str, meta_arguments: set[str]) -> None:
    attributes = schema.get("attributes", {})
    nested = schema.get("blocks", {})
    given: set[str] = set()
    counts: dict[str, int] = {}
    dynamic: set[str] = set()
    for attribute in _attributes(_body(block)):
        name = _name(attribute)
        given.add(name)
        if name in meta_arguments:
            continue
        if name in nested:
            checker.add(attribute, f"{where}: '{name}' is a block, not an argument: write {name} {{ ... }}")
            continue
        spec = attributes.get(name)
        if spec is None:
            hint = did_you_mean(name, [n for n, a in attributes.items() if not a.get("computed")])
            checker.add(attribute, f"{where}: unknown argument '{name}';{hint or ' not in the provider schema'}")
            continue
        if spec.get("computed"):
            checker.add(attribute, f"{where}: '{name}' is set by the provider and cannot be configured")
            continue
        problem = type_problem(spec.get("type", ""), attribute.children[-1])
        if problem:
            checker.add(attribute, f"{where}: '{name}' expects {spec['type']}: {problem}")
    for child in _blocks(block):
        name, labels = _block_head(child)
        if name in RESOURCE_META_BLOCKS and meta_arguments is RESOURCE_META_ARGUMENTS:
            continue
        if name == "dynamic":
            inner_name = labels[0] if labels else ""
            content = next((b for b in _blocks(child) if _block_head(b)[0] == "content"), None)
            if inner_name not in nested:
                _unknown_block(checker, child, inner_name, nested, attributes, where)
                continue
            dynamic.add(inner_name)
            if content is not None:
                _check_body(checker, content, nested[inner_name], f"{where}.{inner_name}", set())
            continue
        if name not in nested:
            _unknown_block(checker, child, name, nested, attributes, where)
            continue
        if nested[name].get("computed"):
            checker.add(child, f"{where}: '{name}' is set by the provider and cannot be configured")
            continue
        counts[name] = counts.get(name, 0) + 1
        maximum = nested[name].get("max_items")
        if maximum is not None and counts[name] == maximum + 1:
            checker.add(child, f"{where}: too many '{name}' blocks: at most {maximum}")
        _check_body(checker, child, nested[name], f"{where}.{name}", set())
    for name, spec in attributes.items():
        if spec.get("required") and name not in given:
            checker.add(block, f"{where}: missing required argument '{name}'")
    for name, spec in nested.items():
        minimum = spec.get("min_items") or 0
        if minimum and name not in dynamic and counts.get(name, 0) < minimum:
            checker.add(block, f"{where}: missing required block '{name}' (at least {minimum})")


def _unknown_block(checker: _Checker, node: Tree, name: str, nested: dict, attributes: dict, where: str) -> None:
    if name in attributes:
        checker.add(node, f"{where}: '{name}' is an argument, not a block: write {name} = ...")
        return
    inside = _block_path(name, nested)
    hint = f" it belongs inside {inside};" if inside else did_you_mean(name, nested)
    allowed = [n for n, b in nested.items() if not b.get("computed")]
    checker.add(
        node,
        f"{where}: unknown block '{name}';{hint or ''} blocks here: {quoted_list(allowed) or 'none'}",
    )


def _block_path(name: str, nested: dict, depth: int = 3) -> str | None:
    """Where a block of this name is allowed below these blocks, e.g. "config { }"."""
    for outer, spec in nested.items():
        if spec.get("computed"):
            continue
        if name in spec.get("blocks", {}):
            return f"{outer} {{ }}"
        deeper = _block_path(name, spec.get("blocks", {}), depth - 1) if depth > 1 else None
        if deeper:
            return f"{outer} {{ {deeper} }}"
    return None


def _body(tree: Tree) -> Tree:
    if tree.data == "start":
        return tree.children[0]
    return next(child for child in tree.children if isinstance(child, Tree) and child.data == "body")


def _reference_problem(schema: dict, resource_type: str, path: str) -> str | None:
    """Why `<type>.<name><path>` names no attribute of the resource, or None."""
    steps = [s for s in re.split(r"\.|\[[^\]]*\]", path) if s]
    current = schema["resources"][resource_type]
    shown = resource_type
    for step in steps:
        if step in current.get("attributes", {}):
            return None  # attributes are leaves: maps and lists index freely
        if step in current.get("blocks", {}):
            current = current["blocks"][step]
            shown = f"{shown}.{step}"
            continue
        names = [*current.get("attributes", {}), *current.get("blocks", {})]
        return f"'{shown}' has no attribute '{step}';{did_you_mean(step, names) or ''}".rstrip(";")
    return None


def check_module_files(files: Mapping[str, str | bytes], *, version: str) -> list[DslProblem]:
    """Resource blocks of type google_* (and provider "google" blocks) against the schema."""
    schema = load_schema(version)
    problems: list[DslProblem] = []
    for path, text in sorted(files.items()):
        if not path.endswith(".tf"):
            continue
        text = text.decode() if isinstance(text, bytes) else text
        report = PolicyReport()
        tree = _parse(text, path, report)
        problems.extend(report.problems)
        if tree is None:
            continue
        checker = _Checker(path)
        for block in _blocks(tree):
            kind, labels = _block_head(block)
            if kind == "provider" and labels[:1] == ["google"]:
                _check_body(checker, block, schema["provider_config"], 'provider "google"', PROVIDER_META_ARGUMENTS)
            if kind != "resource" or len(labels) != 2 or not labels[0].startswith("google_"):
                continue
            resource_type, name = labels
            if resource_type not in schema["resources"]:
                checker.add(
                    block,
                    f"resource type '{resource_type}' is not in the schema extract of hashicorp/google {version}; "
                    f"known:{did_you_mean(resource_type, schema['resources']) or ' '} "
                    f"add it to scripts/gcp_schema_extract.py and regenerate",
                )
                continue
            _check_body(
                checker, block, schema["resources"][resource_type], f"{resource_type}.{name}", RESOURCE_META_ARGUMENTS
            )
        problems.extend(checker.problems)
        for line_number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith(("#", "//")):
                continue
            for match in RESOURCE_REFERENCE.finditer(line):
                resource_type, _, rest = match.groups()
                if resource_type not in schema["resources"]:
                    continue
                problem = _reference_problem(schema, resource_type, rest)
                if problem:
                    problems.append(DslProblem(path, line_number, match.start() + 1, problem))
    return problems


# -- module calls against the modules' variables and outputs --------------------------------------


@dataclass(frozen=True)
class ModuleInterface:
    variables: dict[str, tuple[str, bool]]  # name → (type, has a default)
    outputs: set[str]


def read_module_interface(module_dir: Path) -> ModuleInterface:
    variables: dict[str, tuple[str, bool]] = {}
    outputs: set[str] = set()
    for path in sorted(Path(module_dir).glob("*.tf")):
        text = path.read_text()
        tree = _parse(text, str(path), PolicyReport())
        if tree is None:
            continue
        for block in _blocks(tree):
            kind, labels = _block_head(block)
            if kind == "variable" and labels:
                body = {_name(a): a for a in _attributes(_body(block))}
                kind_text = ""
                if "type" in body:
                    node = body["type"]
                    kind_text = text[node.children[-1].meta.start_pos : node.children[-1].meta.end_pos].strip()
                variables[labels[0]] = (kind_text, "default" in body)
            elif kind == "output" and labels:
                outputs.add(labels[0])
    return ModuleInterface(variables, outputs)


def check_environment_files(
    files: Mapping[str, str | bytes], *, modules_dir: Path, module_prefix: str
) -> list[DslProblem]:
    """Module calls (`source = "<module_prefix><name>"`) against terraform_modules/<target>/<name>."""
    problems: list[DslProblem] = []
    calls: dict[str, ModuleInterface | None] = {}
    texts = {p: (t.decode() if isinstance(t, bytes) else t) for p, t in files.items() if p.endswith(".tf")}
    interfaces: dict[str, ModuleInterface] = {}
    for path, text in sorted(texts.items()):
        report = PolicyReport()
        tree = _parse(text, path, report)
        problems.extend(report.problems)
        if tree is None:
            continue
        checker = _Checker(path)
        for block in _blocks(tree):
            kind, labels = _block_head(block)
            if kind != "module" or not labels:
                continue
            body = {_name(a): a for a in _attributes(_body(block))}
            source_node = body.get("source")
            source = _literal_kind(source_node.children[-1]) if source_node is not None else None
            if source is None or source[0] != "string" or not source[1].startswith(module_prefix):
                checker.add(block, f"module '{labels[0]}': source must be \"{module_prefix}<name>\"")
                calls[labels[0]] = None
                continue
            name = source[1].removeprefix(module_prefix)
            if not (modules_dir / name).is_dir():
                checker.add(source_node, f"module '{labels[0]}': no module '{name}' in {modules_dir}")
                calls[labels[0]] = None
                continue
            interface = interfaces.get(name) or read_module_interface(modules_dir / name)
            interfaces[name] = interface
            calls[labels[0]] = interface
            where = f"module '{labels[0]}' ({name})"
            for argument, node in body.items():
                if argument in MODULE_META_ARGUMENTS:
                    continue
                if argument not in interface.variables:
                    hint = did_you_mean(argument, interface.variables)
                    checker.add(
                        node, f"{where}: unknown input '{argument}';{hint or ' the module has no such variable'}"
                    )
                    continue
                problem = type_problem(interface.variables[argument][0], node.children[-1])
                if problem:
                    checker.add(node, f"{where}: '{argument}' expects {interface.variables[argument][0]}: {problem}")
            for variable, (_, has_default) in sorted(interface.variables.items()):
                if not has_default and variable not in body:
                    checker.add(block, f"{where}: missing required input '{variable}'")
        problems.extend(checker.problems)
    for path, text in sorted(texts.items()):
        for line_number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith(("#", "//")):
                continue
            for match in MODULE_REFERENCE.finditer(line):
                label, output = match.groups()
                if label not in calls:
                    hint = did_you_mean(label, calls)
                    problems.append(
                        DslProblem(
                            path, line_number, match.start() + 1, f"no module call '{label}';{hint or ''}".rstrip(";")
                        )
                    )
                elif calls[label] is not None and output and output not in calls[label].outputs:
                    hint = did_you_mean(output, calls[label].outputs)
                    problems.append(
                        DslProblem(
                            path,
                            line_number,
                            match.start() + 1,
                            f"module '{label}' has no output '{output}';"
                            f"{hint or ' outputs: ' + quoted_list(sorted(calls[label].outputs))}",
                        )
                    )
    return problems
