"""Validators match the whole value: a `$`-anchored pattern used with `.match()` lets a trailing newline
through ("1.2.3\n" would pass as a second version that looks exactly like "1.2.3")."""

import ast
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal", "onboarding", "deployments", "localcloud", "notifications", "tokens", "hangar_cli")


def _sources():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _anchored_at_end(pattern: str) -> bool:
    return pattern.endswith("$") and not pattern.endswith("\\$")


def test_no_end_anchored_pattern_is_used_with_match():
    """Every `X.match(...)` or `re.match(r"...$", ...)` on a pattern anchored with `$` is a bug."""
    offenders = []
    for path in _sources():
        tree = ast.parse(path.read_text())
        anchored: set[str] = set()
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "attr", "") == "compile"
                and node.value.args
                and isinstance(node.value.args[0], ast.Constant | ast.JoinedStr)
            ):
                first = node.value.args[0]
                text = first.value if isinstance(first, ast.Constant) else ast.unparse(first)
                if isinstance(text, str) and _anchored_at_end(text.rstrip("'\"")):
                    anchored.update(t.id for t in node.targets if isinstance(t, ast.Name))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "match"):
                continue
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id in anchored:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {owner.id}.match")
            if (
                isinstance(owner, ast.Name)
                and owner.id == "re"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and _anchored_at_end(node.args[0].value)
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: re.match(...$)")
    assert offenders == [], "use .fullmatch() for whole-value checks:\n" + "\n".join(offenders)


def test_a_version_with_a_trailing_newline_is_not_a_version():
    from deployments.artifacts.metadata import check_version

    with pytest.raises(ValueError, match="not a semantic version"):
        check_version("1.2.3\n")


def test_a_project_name_with_a_trailing_newline_is_refused():
    from onboarding.naming import validate_project_identity, validate_project_name

    with pytest.raises(ValidationError):
        validate_project_name("example\n")
    with pytest.raises(ValidationError):
        validate_project_identity(123, "ex\n")


def test_an_hcl_key_with_a_trailing_newline_is_quoted():
    from deployments.dsl.hcl import object_key

    assert object_key("core-x\n") == '"core-x\\n"'


def test_the_dsl_refuses_names_with_a_trailing_newline(tmp_path):
    from tests.dsl.helpers import problems_of

    text = 'infrastructure:\n  gcp:\n    datasets:\n      - name: "d\\n"\n'
    assert any("dataset name" in problem and "is not allowed" in problem for problem in problems_of(text, tmp_path))


def test_the_local_cloud_refuses_ids_with_a_trailing_newline():
    from localcloud import validation

    with pytest.raises(validation.InvalidValue):
        validation.sa_email("deployer@sc-123-example-dev.iam.gserviceaccount.com\n")
