"""Each class of DSL error names the file, line and column, what was found and what is allowed."""

import json
from pathlib import Path

import pytest

from tests.dsl.helpers import problems_of


@pytest.fixture
def infra(tmp_path: Path) -> Path:
    (tmp_path / "bq_schemas").mkdir()
    (tmp_path / "bq_schemas/ok.json").write_text(json.dumps([{"name": "dt", "type": "DATE"}]))
    return tmp_path


def test_unknown_key_suggests_the_closest(infra):
    text = "infrastructure:\n  gcp:\n    composers:\n      - name: c\n        verison: v2\n"
    assert problems_of(text, infra) == [
        "infrastructure/dev/main.yaml:5:9: unknown key 'verison' in composer; did you mean 'version'? allowed: "
        "'name', 'version', 'airflow_config_overrides', 'pypi_packages', 'env_variables', 'custom_labels', "
        "'shared'"
    ]


def test_every_problem_is_reported_at_once(infra):
    text = """\
infrastructure:
  gcp:
    composers:
      - name: Bad_Name
        version: v2.0
    datasets:
      - name: d
        managed: maybe
        tables:
          - name: t
            parameters:
              schema: "file:bq_schemas/ok.json"
              time_partitioning: {type: WEEK}
              clustering: [a, b, c, d, e]
"""
    problems = problems_of(text, infra)
    assert [p.split(": ")[0] for p in problems] == [
        "infrastructure/dev/main.yaml:4:15",
        "infrastructure/dev/main.yaml:5:18",
        "infrastructure/dev/main.yaml:8:18",
        "infrastructure/dev/main.yaml:13:41",
        "infrastructure/dev/main.yaml:14:27",
    ]
    assert "composer name 'Bad_Name' is not allowed: use 1 to 64 lower-case letters" in problems[0]
    assert "composer version 'v2.0' is not known; did you mean 'v2'? allowed: 'v2', 'v3'" in problems[1]
    assert "'managed' must be True or False; found the text 'maybe'" in problems[2]
    assert "time_partitioning type 'WEEK' is not one of 'DAY', 'HOUR', 'MONTH', 'YEAR'" in problems[3]
    assert "clustering has 5 columns; BigQuery allows at most 4" in problems[4]


def test_wrong_shapes_say_what_was_found(infra):
    problems = problems_of("infrastructure:\n  gcp:\n    composers:\n      name: c\n", infra)
    assert problems == [
        "infrastructure/dev/main.yaml:4:7: 'composers' must be a list (each entry starting with '- ') or ~ for none;"
        " found a mapping"
    ]


def test_missing_name_and_duplicates(infra):
    text = "infrastructure:\n  gcp:\n    composers:\n      - version: v2\n      - name: a\n      - name: a\n"
    assert problems_of(text, infra) == [
        "infrastructure/dev/main.yaml:4:9: composer needs a 'name'",
        "infrastructure/dev/main.yaml:6:9: composer 'a' is defined twice (first on line 5); names must be unique",
    ]


def test_duplicate_keys_are_reported(infra):
    text = "infrastructure:\n  gcp:\n    composers:\n      - name: a\n        name: b\n"
    assert problems_of(text, infra) == [
        "infrastructure/dev/main.yaml:5:9: duplicate key 'name' (first given on line 4)"
    ]


def test_invalid_yaml_syntax_has_a_position(infra):
    [problem] = problems_of("infrastructure:\n  gcp: [\n", infra)
    assert problem.startswith("infrastructure/dev/main.yaml:3:1: invalid YAML")


def test_labels_and_pypi_values(infra):
    text = """\
infrastructure:
  gcp:
    composers:
      - name: c
        pypi_packages:
          jira: 2.0
        custom_labels:
          Owner: x
          team: "Data Platform"
"""
    problems = problems_of(text, infra)
    assert problems[0].startswith(
        "infrastructure/dev/main.yaml:6:17: value of 'jira' in pypi_packages must be a quoted"
    )
    assert "found the number 2.0" in problems[0]
    assert problems[1].startswith("infrastructure/dev/main.yaml:8:11: key 'Owner' in custom_labels is not allowed")
    assert problems[2].startswith("infrastructure/dev/main.yaml:9:17: value of 'team' in custom_labels 'Data Platform'")


def table_with_schema(reference: str) -> str:
    return f"""\
infrastructure:
  gcp:
    datasets:
      - name: d
        tables:
          - name: t
            parameters:
              schema: "{reference}"
"""


def test_missing_schema_file_is_named(infra):
    assert problems_of(table_with_schema("file:bq_schemas/nope.json"), infra) == [
        "infrastructure/dev/main.yaml:8:23: schema file 'infrastructure/bq_schemas/nope.json' does not exist"
    ]


@pytest.mark.parametrize(
    "reference", ["file:../secrets.json", "file:/etc/passwd", "file:dev/x.json", "file:bq_schemas/../../x.json"]
)
def test_schema_outside_the_project_is_refused(infra, reference):
    [problem] = problems_of(table_with_schema(reference), infra)
    assert problem.startswith("infrastructure/dev/main.yaml:8:23: schema file")
    assert "is outside the project's schema folder" in problem


def test_schema_link_leading_outside_is_refused(infra, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "x.json"
    outside.write_text("[]")
    (infra / "bq_schemas/link.json").symlink_to(outside)
    [problem] = problems_of(table_with_schema("file:bq_schemas/link.json"), infra)
    assert "is a link or leads outside" in problem


def test_malformed_schema_is_reported_in_the_schema_file(infra):
    (infra / "bq_schemas/bad.json").write_text('[\n  {"name": "a", "type": "STRING"}\n  {"name": "b"}\n]\n')
    assert problems_of(table_with_schema("file:bq_schemas/bad.json"), infra) == [
        "infrastructure/bq_schemas/bad.json:3:3: invalid JSON: Expecting ',' delimiter "
        "(referenced from infrastructure/dev/main.yaml:8)"
    ]


def test_schema_of_the_wrong_shape(infra):
    (infra / "bq_schemas/shape.json").write_text('{"fields": []}')
    [problem] = problems_of(table_with_schema("file:bq_schemas/shape.json"), infra)
    assert problem.startswith("infrastructure/bq_schemas/shape.json:1:1: schema must be a JSON list of fields")


def test_schema_reference_must_be_a_file_reference(infra):
    [problem] = problems_of(table_with_schema("bq_schemas/ok.json"), infra)
    assert 'schema must be a file reference such as "file:bq_schemas/table.json"' in problem


def test_impersonator_must_name_a_composer_of_the_file(infra):
    text = """\
infrastructure:
  gcp:
    composers: [{name: team-composer}]
    service_accounts:
      - name: compute-sa
        impersonated_by: ["composer:team-composr", "not-an-email"]
"""
    assert problems_of(text, infra) == [
        "infrastructure/dev/main.yaml:6:27: impersonator 'composer:team-composr' names no composer of this file;"
        " did you mean 'team-composer'? composers: 'team-composer'",
        "infrastructure/dev/main.yaml:6:52: impersonator 'not-an-email' must be a service account e-mail address or"
        " 'composer:<name>' for a composer of this file",
    ]


def test_processing_clusters_must_be_none(infra):
    [problem] = problems_of("infrastructure:\n  gcp:\n    processing_clusters: [{name: x}]\n", infra)
    assert problem.startswith("infrastructure/dev/main.yaml:3:26: processing clusters are not supported yet")


def test_empty_file(infra):
    assert problems_of("# nothing\n", infra) == [
        "infrastructure/dev/main.yaml:1:1: file is empty; expected 'infrastructure:' with a 'gcp:' section"
    ]


def test_a_schema_with_an_overlong_integer_is_a_problem_not_a_crash(infra):
    (infra / "bq_schemas/big.json").write_text('[\n  {"name": "a", "type": "STRING", "x": ' + "9" * 5000 + "}\n]\n")
    [problem] = problems_of(table_with_schema("file:bq_schemas/big.json"), infra)
    assert problem.startswith("infrastructure/bq_schemas/big.json:2:")
    assert "5000 digits" in problem


def test_a_deeply_nested_schema_is_a_problem_not_a_crash(infra):
    (infra / "bq_schemas/deep.json").write_text("[" * 100_000 + "]" * 100_000)
    [problem] = problems_of(table_with_schema("file:bq_schemas/deep.json"), infra)
    assert problem.startswith("infrastructure/bq_schemas/deep.json:1:1: ")
    assert "nested too deeply" in problem


COMPOSER_WITH = """\
infrastructure:
  gcp:
    composers:
      - name: c
        {section}:
          {key}: "{value}"
"""


@pytest.mark.parametrize("separator", ["\\r", "\\n", "\\u2028", "\\u2029", "\\v", "\\f", "\\x85", "\\0"])
@pytest.mark.parametrize(
    ("section", "key", "prefix"),
    [
        ("env_variables", "MODE", "fast"),
        ("airflow_config_overrides", "core-x", "1"),
        ("pypi_packages", "six", "==1.0 ,"),
    ],
)
def test_composer_values_are_single_lines(infra, separator, section, key, prefix):
    text = COMPOSER_WITH.format(section=section, key=key, value=f"{prefix}{separator}<2")
    [problem] = problems_of(text, infra)
    assert problem.startswith("infrastructure/dev/main.yaml:6:")
    assert f"value of '{key}' in {section}" in problem
    assert "line break or control character" in problem


def _schema_problems(infra, name, fields_json):
    (infra / f"bq_schemas/{name}").write_text(fields_json)
    return problems_of(table_with_schema(f"file:bq_schemas/{name}"), infra)


def test_an_unknown_column_type_is_refused_at_build_with_file_and_line(infra):
    problems = _schema_problems(
        infra, "money.json", '[\n  {"name": "id", "type": "INT64"},\n  {"name": "amount", "type": "MONEY"}\n]\n'
    )
    assert len(problems) == 1
    assert problems[0].startswith(
        "infrastructure/bq_schemas/money.json:3:3: column 'amount' has type 'MONEY', which BigQuery does not know; "
        "allowed: 'STRING', 'BYTES', 'INTEGER'"
    )
    assert problems[0].endswith("(referenced from infrastructure/dev/main.yaml:8)")


def test_an_unknown_mode_and_other_column_mistakes_are_all_reported(infra):
    problems = _schema_problems(
        infra,
        "modes.json",
        "[\n"
        '  {"name": "a", "type": "string", "mode": "OPTIONAL"},\n'
        '  {"name": "A", "type": "DATE"},\n'
        '  {"name": "1x", "type": "DATE", "colour": "red"},\n'
        '  {"name": "r", "type": "RECORD"},\n'
        '  {"name": "s", "type": "STRING", "fields": [{"name": "t", "type": "STRING"}]},\n'
        '  {"name": "n", "type": "STRUCT", "fields": [\n'
        '    {"name": "deep", "type": "NUMBER"}\n'
        "  ]}\n"
        "]\n",
    )
    shown = [p.split(" (referenced")[0] for p in problems]
    assert shown == [
        "infrastructure/bq_schemas/modes.json:2:3: column 'a' has mode 'OPTIONAL'; allowed: 'NULLABLE', "
        "'REQUIRED', 'REPEATED'",
        "infrastructure/bq_schemas/modes.json:3:3: column 'A' is given twice (column names are compared ignoring case)",
        "infrastructure/bq_schemas/modes.json:4:3: column '1x' has an unknown key 'colour'; allowed: "
        "'description', 'fields', 'maxLength', 'mode', 'name', 'policyTags', 'precision', 'scale', 'type'",
        "infrastructure/bq_schemas/modes.json:4:3: column '1x': column names are letters, digits and '_', not "
        "starting with a digit",
        "infrastructure/bq_schemas/modes.json:5:3: column 'r' is a RECORD and needs a non-empty 'fields' list",
        "infrastructure/bq_schemas/modes.json:6:3: column 's' has nested 'fields' but only RECORD (STRUCT) columns do",
        "infrastructure/bq_schemas/modes.json:8:5: column 'n.deep' has type 'NUMBER', which BigQuery does not "
        "know; did you mean 'NUMERIC'? allowed: " + problems[-1].split("allowed: ")[1].split(" (referenced")[0],
    ]


def test_the_build_accepts_every_type_and_alias_the_local_cloud_accepts(infra):
    from localcloud import bq_types

    fields = [{"name": f"c{i}", "type": t.lower()} for i, t in enumerate(bq_types.TYPES + tuple(bq_types.TYPE_ALIASES))]
    for field in fields:
        if field["type"] in ("record", "struct"):
            field["fields"] = [{"name": "x", "type": "STRING", "mode": "required"}]
    assert _schema_problems(infra, "all.json", json.dumps(fields)) == []


def test_the_local_cloud_and_the_build_share_one_list_of_types():
    from localcloud import bq_schema, bq_types

    assert bq_schema.TYPES is bq_types.TYPES and bq_schema.MODES is bq_types.MODES
