import json

import pytest

from localcloud import bq_schema
from localcloud.errors import InvalidValue


def test_parses_types_modes_and_nested_records() -> None:
    fields = bq_schema.parse_schema(
        json.dumps(
            [
                {"name": "id", "type": "int64", "mode": "required", "description": "key"},
                {"name": "tags", "type": "STRING", "mode": "REPEATED"},
                {"name": "meta", "type": "STRUCT", "fields": [{"name": "score", "type": "FLOAT64"}]},
            ]
        )
    )
    assert fields == [
        {"name": "id", "type": "INTEGER", "mode": "REQUIRED", "description": "key"},
        {"name": "tags", "type": "STRING", "mode": "REPEATED"},
        {
            "name": "meta",
            "type": "RECORD",
            "mode": "NULLABLE",
            "fields": [{"name": "score", "type": "FLOAT", "mode": "NULLABLE"}],
        },
    ]


@pytest.mark.parametrize(
    ("schema", "field", "found"),
    [
        ([{"name": "a", "type": "MONEY"}], "schema[0] (a).type", "MONEY"),
        ([{"name": "a", "type": "STRING", "mode": "OPTIONAL"}], "schema[0] (a).mode", "OPTIONAL"),
        ([{"name": "1a", "type": "STRING"}], "schema[0].name", "1a"),
        ([{"name": "a", "type": "STRING"}, {"name": "A", "type": "STRING"}], "schema[1].name", "A"),
        ([{"name": "r", "type": "RECORD"}], "schema[0] (r).fields", None),
        (
            [{"name": "r", "type": "RECORD", "fields": [{"name": "x", "type": "NOPE"}]}],
            "schema[0] (r).fields[0] (x).type",
            "NOPE",
        ),
        ([], "schema", []),
    ],
)
def test_bad_schemas_name_the_field(schema, field: str, found) -> None:
    with pytest.raises(InvalidValue) as error:
        bq_schema.parse_schema(json.dumps(schema))
    assert error.value.field == field
    assert error.value.found == found


def test_not_json() -> None:
    with pytest.raises(InvalidValue, match="must be JSON"):
        bq_schema.parse_schema("[{")


def test_partitioning_and_clustering_rules() -> None:
    fields = bq_schema.parse_schema(
        '[{"name": "dt", "type": "DATE"}, {"name": "tags", "type": "STRING", "mode": "REPEATED"}]'
    )
    assert bq_schema.validate_partitioning({"field": "dt"}, fields) == {"type": "DAY", "field": "dt"}
    assert bq_schema.validate_partitioning(None, fields) is None
    with pytest.raises(InvalidValue, match=r"time_partitioning\.type"):
        bq_schema.validate_partitioning({"type": "WEEK"}, fields)
    with pytest.raises(InvalidValue, match="must be a top-level column"):
        bq_schema.validate_partitioning({"field": "nope"}, fields)
    with pytest.raises(InvalidValue, match=r"clustering\[0\]"):
        bq_schema.validate_clustering(["tags"], fields)


def test_reported_schema_keeps_the_configured_spelling() -> None:
    configured = '[{"name": "a", "type": "INT64"}, {"name": "b", "type": "STRING"}]'
    fields = bq_schema.parse_schema(configured)[:1]
    assert json.loads(bq_schema.dumps(fields, configured)) == [{"name": "a", "type": "INT64"}]
    assert bq_schema.same_schema(configured, bq_schema.parse_schema(configured))
