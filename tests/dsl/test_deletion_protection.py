"""`deletion_protection` of a table: validated with its position, compiled only when false."""

import json
from pathlib import Path

import pytest

from deployments.dsl import compile_environment, parse_environment
from tests.dsl.helpers import FILENAME, problems_of


@pytest.fixture
def infra(tmp_path: Path) -> Path:
    (tmp_path / "bq_schemas").mkdir()
    (tmp_path / "bq_schemas/ok.json").write_text(json.dumps([{"name": "dt", "type": "DATE"}]))
    return tmp_path


def main_yaml(protection: str | None) -> str:
    line = f"              deletion_protection: {protection}\n" if protection is not None else ""
    return (
        "infrastructure:\n"
        "  gcp:\n"
        "    datasets:\n"
        "      - name: d\n"
        "        tables:\n"
        "          - name: t\n"
        "            parameters:\n"
        '              schema: "file:bq_schemas/ok.json"\n' + line
    )


def table_of(text: str, infra: Path):
    spec = parse_environment(text=text, filename=FILENAME, infrastructure_dir=infra)
    return spec.datasets[0].tables[0]


def compiled(text: str, infra: Path) -> str:
    spec = parse_environment(text=text, filename=FILENAME, infrastructure_dir=infra)
    return compile_environment(spec=spec, project_id="sc-1-p-dev", team="data")["main.tf"]


def test_tables_are_protected_by_default(infra):
    assert table_of(main_yaml(None), infra).deletion_protection is True
    assert table_of(main_yaml("true"), infra).deletion_protection is True
    assert table_of(main_yaml("False"), infra).deletion_protection is False


@pytest.mark.parametrize(
    ("value", "found"),
    [("'false'", "the text 'false'"), ("0", "the number 0"), ("~", "nothing (~)"), ("[false]", "a list")],
)
def test_a_value_that_is_not_a_boolean_is_refused_with_its_position(infra, value, found):
    assert problems_of(main_yaml(value), infra) == [
        f"infrastructure/dev/main.yaml:9:36: deletion_protection must be True or False; found {found}"
    ]


def test_a_misspelt_key_is_suggested(infra):
    text = main_yaml(None) + "              deletion_protecton: false\n"
    [problem] = problems_of(text, infra)
    assert problem.startswith("infrastructure/dev/main.yaml:9:15: unknown key 'deletion_protecton'")
    assert "did you mean 'deletion_protection'?" in problem


def test_only_an_unprotected_table_says_so_in_the_terraform(infra):
    # Protected is the module's default: nothing is written, so the exception stands out.
    assert "deletion_protection" not in compiled(main_yaml(None), infra)
    assert "deletion_protection" not in compiled(main_yaml("true"), infra)
    assert "  deletion_protection = false\n" in compiled(main_yaml("false"), infra)
