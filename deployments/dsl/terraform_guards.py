"""Tenant isolation in plain Terraform (issue 11): project ids, file reads and file types.

Part of the plain-Terraform policy (`terraform_policy.py` calls `check_isolation` on every parsed
file); kept apart because it walks every expression rather than the block structure. Defence in
depth: the sandbox and the local cloud's per-environment token are what enforce isolation at run
time; these checks refuse what can be seen statically, at build and upload, with file and line.

- Project ids. An environment addresses only its own cloud project (`sc-<id>-<name>-<env>`):
  a literal `project`/`project_id` (an attribute, a module argument or an object key) must be that
  id, and a literal string anywhere may not contain another Hangar project id. Ids computed from
  variables or functions cannot be judged here; the local cloud refuses them at apply. Not counted
  as references: `description`/`error_message` text, which is prose for people, and another
  project's service account *as an IAM member* (it is given access to this project's resources;
  nothing of the other project is touched). The account acted upon (`service_account`,
  `service_account_email`, `service_account_id`) must be of the own project.
- File reads. `file()` and its relatives read the worker's file system, so the path must be built
  on `path.module` with literal text after it, without `..` (an environment's schemas are reached
  the way the compiler writes it, `${path.module}/../bq_schemas/...`).
- Heredocs and `.tftpl` templates are parsed as templates, so calls inside them are checked too.
- File types. Terraform and OpenTofu also load `*.tf.json`, `*.tofu`, `*.tofu.json` and override
  files (`override.tf`, `*_override.tf`), which merge into other files' blocks after the fact;
  the policy reads none of them, so an artifact may not hold them (`unchecked_terraform_file`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from lark import Token, Tree
from lark.exceptions import LarkError

from deployments.dsl.errors import quoted_list

Problem = Callable[[int, int, str], None]

# A Hangar cloud project id, sc-<service control id>-<name>-<env>, standing on its own in the text
# (so "sc-1-x-dev-data", a bucket named after a project, is not one; "dags/sc-1-x-dev/" is).
HANGAR_PROJECT_ID = re.compile(
    r"(?<![a-z0-9-])sc-[1-9][0-9]*-[a-z](?:[a-z0-9-]*[a-z0-9])?-(?:dev|test|prod)(?![a-z0-9-])"
)
PROJECT_ATTRIBUTES = ("project", "project_id")
# Attributes naming the service account an action is done to (the bundled modules' and the provider's).
ACTED_ON_ACCOUNT_ATTRIBUTES = ("service_account", "service_account_email", "service_account_id")
PROSE_ATTRIBUTES = ("description", "error_message")
SERVICE_ACCOUNT_EMAIL = re.compile(
    r"^(?:serviceAccount:)?[a-z][a-z0-9-]*@(?P<project>[a-z][a-z0-9-]*[a-z0-9])\.iam\.gserviceaccount\.com$"
)

# Functions that read the file system. The path is their first argument; fileset's pattern is the second.
FILE_FUNCTIONS = (
    "file",
    "filebase64",
    "fileset",
    "filemd5",
    "filesha1",
    "filesha256",
    "filesha512",
    "templatefile",
    "fileexists",
)
# pathexpand is refused whatever its argument: it only replaces a leading "~" with the home directory
# of whoever runs Terraform (on a worker, the worker's home), and a path built on path.module never
# starts with "~", so in an artifact it either does nothing or points outside the artifact.
REFUSED_FUNCTIONS = {"pathexpand": "it expands '~' to the home directory of the worker running Terraform"}
SCHEMA_PREFIX = ("..", "bq_schemas")  # infrastructure/<env>/../bq_schemas/: the environments' shared schemas
TEMPLATE_SUFFIX = ".tftpl"

UNCHECKED_SUFFIXES = {
    ".tf.json": "JSON Terraform",
    ".tofu.json": "JSON OpenTofu configuration",
    ".tofu": "OpenTofu configuration",
}


def unchecked_terraform_file(name: str) -> str | None:
    """Why a file Terraform or OpenTofu would load is refused, or None. `name` is a path or a file name."""
    base = name.rsplit("/", 1)[-1]
    for suffix, what in UNCHECKED_SUFFIXES.items():
        if base.endswith(suffix):
            return (
                f"{what} ({suffix}) is not accepted: Terraform or OpenTofu would load it, and Hangar's policy checks "
                "only .tf files; write it as a .tf file"
            )
    stem = base.removesuffix(".tf")
    if base.endswith(".tf") and (stem == "override" or stem.endswith("_override")):
        return (
            "override files (override.tf, *_override.tf) are not accepted: Terraform merges them into other files' "
            "blocks after the fact; change the block itself"
        )
    return None


class IsolationChecker:
    """Walks one parsed file. `project_id` is the environment's own cloud project (None for a bundled
    module, which gets its project from a variable); `other_project_ids` may be named too (the
    members of the platform project's shared composer)."""

    def __init__(
        self,
        *,
        problem: Problem,
        role: str,
        project_id: str | None,
        other_project_ids: Collection[str] = (),
    ) -> None:
        self.problem = problem
        self.role = role
        self.project_id = project_id
        self.allowed = ({project_id} if project_id else set()) | set(other_project_ids)
        # An environment whose project is not known (a bare policy check) is not judged on project ids.
        self.check_projects = role == "module" or project_id is not None
        self.anchor: tuple[int, int] | None = None  # where a template's parsed expression is reported

    # -- what is allowed, in words ------------------------------------------------------------------
    def _allowed_text(self) -> str:
        if self.project_id is None:
            return "a module gets its project from a variable (var.project_id), never as literal text"
        others = sorted(self.allowed - {self.project_id})
        extra = f" (and the shared composer's members {quoted_list(others)})" if others else ""
        return (
            f"an environment deploys only into its own project '{self.project_id}'{extra}, written as is or as "
            "local.project_id (ids computed at apply are checked by the cloud)"
        )

    # -- walking ----------------------------------------------------------------------------------
    def walk(self, node: Tree | Token, attribute: str | None = None, line: int = 1, column: int = 1) -> None:
        if isinstance(node, Token):
            return
        line, column = self.anchor or _position(node, line, column)
        kind = node.data
        if kind == "block":
            for child in node.children:
                if isinstance(child, Tree) and child.data == "body":
                    self.walk(child, None, line, column)
            return
        if kind == "attribute":
            name = _identifier(node.children[0])
            self._named_value(name, node.children[-1], line, column)
            return
        if kind == "object_elem":
            name = _object_key(node.children[0])
            self._named_value(name, node.children[-1], line, column)
            return
        if kind == "function_call":
            self._function_call(node, line, column)
        elif kind == "string":
            self._string(node, attribute, line, column)
            return
        elif kind in ("heredoc_template", "heredoc_template_trim"):
            self._heredoc(node, attribute, line, column)
            return
        for child in node.children:
            self.walk(child, attribute, line, column)

    def _named_value(self, name: str | None, value: Tree | Token, line: int, column: int) -> None:
        if not self.check_projects:
            pass
        elif name in PROJECT_ATTRIBUTES:
            literal = literal_text(value)
            if literal is not None and literal not in self.allowed:
                self.problem(line, column, f"'{name} = \"{literal}\"' is not allowed: {self._allowed_text()}")
                return
        elif name in ACTED_ON_ACCOUNT_ATTRIBUTES:
            literal = literal_text(value)
            match = SERVICE_ACCOUNT_EMAIL.fullmatch(literal or "")
            if match and match["project"] not in self.allowed:
                self.problem(
                    line,
                    column,
                    f"'{name}' names the service account '{literal}' of project '{match['project']}': "
                    f"{self._allowed_text()}",
                )
                return
        self.walk(value, name, line, column)

    def _string(self, node: Tree, attribute: str | None, line: int, column: int) -> None:
        segments: list[list[str]] = [[]]
        interpolated = False
        for part in node.children:
            if not (isinstance(part, Tree) and part.data == "string_part"):
                continue
            for piece in part.children:
                if isinstance(piece, Token):
                    segments[-1].append(str(piece))
                else:
                    interpolated = True
                    segments.append([])
                    self.walk(piece, attribute, line, column)
        for segment in segments:
            self.text("".join(segment), attribute, line, column, whole=not interpolated)

    def text(self, text: str, attribute: str | None, line: int, column: int, *, whole: bool = False) -> None:
        """Literal text: no other Hangar project's id (see the module's docstring for what is not counted)."""
        if not text or not self.check_projects or attribute in PROSE_ATTRIBUTES:
            return
        if whole and SERVICE_ACCOUNT_EMAIL.fullmatch(text) and attribute not in ACTED_ON_ACCOUNT_ATTRIBUTES:
            return  # another project's account as an IAM member: it is granted something, it is not touched
        for match in HANGAR_PROJECT_ID.finditer(text):
            found = match.group(0)
            if found not in self.allowed:
                self.problem(
                    line,
                    column,
                    f"'{found}' is another project's id: {self._allowed_text()}; "
                    "another project's service account may appear only as an IAM member",
                )
                return

    # -- file reads -------------------------------------------------------------------------------
    def _function_call(self, node: Tree, line: int, column: int) -> None:
        name = _identifier(node.children[0])
        if name in REFUSED_FUNCTIONS:
            self.problem(line, column, f"{name}() is not allowed: {REFUSED_FUNCTIONS[name]}")
            return
        if name not in FILE_FUNCTIONS:
            return
        arguments = _arguments(node)
        if not arguments:
            return
        reason = self._path_problem(name, arguments[0])
        if reason is None and name == "fileset" and len(arguments) > 1:
            reason = _pattern_problem(arguments[1])
        if reason is not None:
            if name == "templatefile":
                allowed = 'templatefile("${path.module}/<name>.tftpl", {...})'
            elif name == "fileset":
                allowed = 'fileset(path.module, "<pattern>")'
            else:
                allowed = f'{name}("${{path.module}}/<file>")'
                if self.role == "environment":
                    allowed += f' or, for a schema, {name}("${{path.module}}/../bq_schemas/<file>")'
            self.problem(line, column, f"{name}() {reason}; a file may be read only from the module itself: {allowed}")

    def _path_problem(self, function: str, argument: Tree | Token) -> str | None:
        node = _unwrap(argument)
        if _is_path_module(node):
            return None
        if not (isinstance(node, Tree) and node.data == "string"):
            return "needs a path written as text starting with ${path.module}, not a computed one"
        parts = [part for part in node.children if isinstance(part, Tree) and part.data == "string_part"]
        if not parts:
            return "reads the working directory (an empty path)"
        first = parts[0].children
        if not (len(first) == 1 and isinstance(first[0], Tree) and first[0].data == "interpolation"):
            text = str(first[0]) if first and isinstance(first[0], Token) else ""
            if text.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", text):
                return f"reads the absolute path '{text}'"
            return "reads a path relative to the working directory, not to the module"
        expression = [child for child in first[0].children if isinstance(child, Tree)]
        if len(expression) != 1 or not _is_path_module(_unwrap(expression[0])):
            return "builds its path on something other than path.module"
        rest = []
        for part in parts[1:]:
            if any(isinstance(piece, Tree) for piece in part.children):
                return "builds the rest of its path from an expression; after ${path.module} only text is allowed"
            rest.extend(str(piece) for piece in part.children)
        tail = "".join(rest)
        if tail and not tail.startswith("/"):
            return f"reads '${{path.module}}{tail}', a sibling of the module's folder"
        components = [component for component in tail.split("/") if component not in ("", ".")]
        if (
            self.role == "environment"
            and function not in ("templatefile", "fileset")
            and tuple(components[:2]) == SCHEMA_PREFIX
        ):
            components = components[2:]
        if ".." in components:
            return f"reads '${{path.module}}{tail}', which leads out of the module with '..'"
        if function == "templatefile" and not tail.endswith(TEMPLATE_SUFFIX):
            return f"reads the template '${{path.module}}{tail}'; templates must be {TEMPLATE_SUFFIX} files"
        return None

    # -- templates --------------------------------------------------------------------------------
    def _heredoc(self, node: Tree, attribute: str | None, line: int, column: int) -> None:
        token = next((child for child in node.children if isinstance(child, Token)), None)
        if token is None:
            return
        raw = str(token)
        body = raw.split("\n", 1)[1] if "\n" in raw else ""
        body = body.rsplit("\n", 1)[0] if "\n" in body else ""
        self.template(body, attribute, line + 1)

    def template(self, text: str, attribute: str | None, first_line: int) -> None:
        """A heredoc's or a .tftpl file's text: literal parts are text, ${...} and %{...} expressions."""
        for kind, piece, offset in template_pieces(text):
            line = first_line + text.count("\n", 0, offset)
            if kind == "text":
                for number, text_line in enumerate(piece.split("\n")):
                    self.text(text_line, attribute, line + number, 1)
                continue
            if kind == "broken":
                self.problem(line, 1, "a template expression is not closed ('${' or '%{' without '}')")
                continue
            expression = _directive_expression(piece) if kind == "directive" else piece.strip().strip("~").strip()
            if not expression:
                continue
            tree = _parse_expression(expression)
            if tree is None:
                self.problem(line, 1, f"cannot check the template expression '{piece.strip()[:60]}'; simplify it")
                continue
            outer, self.anchor = self.anchor, self.anchor or (line, 1)
            try:
                self.walk(tree, attribute, line, 1)
            finally:
                self.anchor = outer


def template_pieces(text: str) -> list[tuple[str, str, int]]:
    """('text' | 'interpolation' | 'directive' | 'broken', content, offset) of a template's text."""
    pieces: list[tuple[str, str, int]] = []
    literal_start = i = 0
    while i < len(text):
        if text.startswith(("$${", "%%{"), i):
            i += 3
            continue
        if text.startswith(("${", "%{"), i):
            pieces.append(("text", text[literal_start:i], literal_start))
            end = _expression_end(text, i + 2)
            if end is None:
                pieces.append(("broken", text[i:], i))
                return pieces
            kind = "interpolation" if text[i] == "$" else "directive"
            pieces.append((kind, text[i + 2 : end], i))
            i = literal_start = end + 1
            continue
        i += 1
    pieces.append(("text", text[literal_start:], literal_start))
    return pieces


def _expression_end(text: str, i: int) -> int | None:
    """Index of the '}' closing an expression that starts at i, skipping nested braces and strings."""
    depth = 0
    while i < len(text):
        char = text[i]
        if char == '"':
            i = _string_end(text, i + 1)
            if i is None:
                return None
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return None


def _string_end(text: str, i: int) -> int | None:
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        if text.startswith(("${", "%{"), i) and not text.startswith(("$${", "%%{"), i - 1):
            end = _expression_end(text, i + 2)
            if end is None:
                return None
            i = end + 1
            continue
        i += 1
    return None


def _directive_expression(content: str) -> str:
    words = content.strip().strip("~").strip()
    if words.startswith("if "):
        return words[3:]
    if words.startswith("for ") and " in " in words:
        return words.split(" in ", 1)[1]
    return ""  # else, endif, endfor


def _parse_expression(expression: str) -> Tree | None:
    from hcl2.api import parses_to_tree

    try:
        return parses_to_tree(f"x = (\n{expression}\n)\n")
    except (LarkError, ValueError):
        return None


# -- small tree helpers ------------------------------------------------------------------------------
def _position(node: Tree, line: int, column: int) -> tuple[int, int]:
    meta = getattr(node, "meta", None)
    if meta is not None and not getattr(meta, "empty", True):
        return meta.line, meta.column
    return line, column


def _identifier(node: Tree | Token) -> str:
    if isinstance(node, Token):
        return str(node)
    return "".join(str(token) for token in node.scan_values(lambda v: isinstance(v, Token)))


def _object_key(key: Tree) -> str | None:
    inner = _unwrap(key.children[0]) if key.children else None
    if isinstance(inner, Tree) and inner.data == "identifier":
        return _identifier(inner)
    if isinstance(inner, Tree) and inner.data == "string":
        return literal_text(inner)
    return None


def _unwrap(node: Tree | Token) -> Tree | Token:
    while isinstance(node, Tree) and node.data in ("expr_term", "object_elem_key") and len(node.children) == 1:
        node = node.children[0]
    while isinstance(node, Tree) and node.data == "expr_term" and len(node.children) == 3:
        # Parentheses: expr_term("(", expression, ")").
        inner = [child for child in node.children if isinstance(child, Tree)]
        if len(inner) != 1:
            break
        node = _unwrap(inner[0])
    return node


def _is_path_module(node: Tree | Token) -> bool:
    if not (isinstance(node, Tree) and node.data == "get_attr_expr_term"):
        return False
    return _identifier(node).replace(" ", "") == "path.module"


def _arguments(call: Tree) -> list[Tree]:
    arguments = next((child for child in call.children if isinstance(child, Tree) and child.data == "arguments"), None)
    if arguments is None:
        return []
    return [child for child in arguments.children if isinstance(child, Tree)]


def _pattern_problem(argument: Tree | Token) -> str | None:
    pattern = literal_text(argument)
    if pattern is None:
        return "needs its pattern written as text"
    if pattern.startswith(("/", "~")):
        return f"has the absolute pattern '{pattern}'"
    if ".." in pattern.split("/"):
        return f"has the pattern '{pattern}', which leads out of the module with '..'"
    return None


def literal_text(expression: Tree | Token) -> str | None:
    """The text of a string literal without interpolations, or None."""
    node = _unwrap(expression)
    if not (isinstance(node, Tree) and node.data == "string"):
        return None
    parts = []
    for child in node.children:
        if isinstance(child, Tree) and child.data == "string_part":
            if any(isinstance(piece, Tree) for piece in child.children):
                return None
            parts.extend(str(piece) for piece in child.children)
    return "".join(parts)
