"""No module of the apps imports one that imports it back, directly or through others.

Read from the source with `ast`, so every import counts: at the top, inside a function
(a "late" import is still a dependency) or in a try block. Only imports guarded by
`if TYPE_CHECKING:` are left out, because they never run."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = ("deployments", "onboarding", "portal", "localcloud", "notifications")
CHECKED = ("deployments", "onboarding", "notifications")
# Apps that other apps must not import at all: they listen to signals instead.
LISTENERS = ("notifications",)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules() -> dict[str, Path]:
    modules = {}
    for package in FIRST_PARTY:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                modules[module_name(path)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST):
    """Every import node, skipping the bodies of `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for other in node.orelse:
                yield from _imports(other)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node)


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The first-party modules `name` imports: `from a import b` means a.b when that is a module, else a."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _imports(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:  # relative import
            anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            base = ".".join([*anchor, *([base] if base else [])])
        for alias in node.names:
            found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {module for module in found if module in known and module != name}


def import_graph() -> dict[str, set[str]]:
    modules = source_modules()
    known = set(modules)
    return {name: imported_modules(name, path, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_late_and_relative_imports() -> None:
    graph = import_graph()
    # A function-level import: the home page reads runs through their room.
    assert "deployments.runs.selectors" in graph["onboarding.views"]
    # `from deployments.runs import services as runs` is an edge to the module, not the package.
    assert "deployments.runs.services" in graph["deployments.pages.views"]


def test_the_cycle_finder_finds_a_cycle_through_others() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_module_of_the_apps_imports_itself_back() -> None:
    graph = import_graph()
    tangled = [component for component in cycles(graph) if any(m.startswith(CHECKED) for m in component)]
    assert not tangled, "import cycles:\n" + "\n".join(" <-> ".join(component) for component in tangled)


def test_runs_drift_and_the_shared_airflow_do_not_know_about_notifications() -> None:
    """Notifications listen to signals (runs, drift, the shared Airflow); nothing imports them back."""
    graph = import_graph()
    leaks = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if not module.startswith(LISTENERS)
        for target in targets
        if target.startswith(LISTENERS)
    )
    assert not leaks, "\n".join(leaks)
