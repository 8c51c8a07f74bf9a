import json

from deployments.runs.terraform_json import RunFindings, parse_line


def line(**fields) -> str:
    return json.dumps({"@level": "info", "@message": "m", "@timestamp": "2026-11-21T10:00:00.123456Z", **fields})


def test_json_lines_keep_their_level_type_message_and_raw():
    parsed = parse_line(line(**{"@level": "warn", "@message": "careful", "type": "log"}))
    assert (parsed.level, parsed.type, parsed.message) == ("warn", "log", "careful")
    assert parsed.raw["@message"] == "careful" and parsed.at.microsecond == 123456


def test_diagnostics_name_the_file_and_line_and_carry_the_detail():
    parsed = parse_line(
        line(
            **{"@level": "error", "@message": "Error: Invalid schema"},
            type="diagnostic",
            diagnostic={
                "severity": "error",
                "summary": "Invalid schema",
                "detail": "type 'STRNG' is not a BigQuery type",
                "range": {"filename": "main.tf", "start": {"line": 12, "column": 3}},
            },
        )
    )
    assert parsed.message == "Error: Invalid schema (main.tf:12)\ntype 'STRNG' is not a BigQuery type"


def test_plain_text_gets_a_level_from_what_it_says():
    assert parse_line("Terraform has been successfully initialized!").level == "info"
    assert parse_line("2026/11/21 21:38:01 [DEBUG] LOCK http://host/state/1/").level == "debug"
    assert parse_line("Error: Failed to query available provider packages").level == "error"
    assert parse_line("init output", default_type="init").type == "init"


def test_findings_follow_the_plan_the_resources_and_the_outputs():
    findings = RunFindings()
    address = "module.table_x.localcloud_table.this"
    findings.observe(
        parse_line(line(type="planned_change", change={"resource": {"addr": address}, "action": "create"}))
    )
    findings.observe(
        parse_line(line(type="change_summary", changes={"add": 3, "change": 1, "remove": 2, "operation": "plan"}))
    )
    findings.observe(parse_line(line(type="apply_start", hook={"resource": {"addr": address}, "action": "create"})))
    assert findings.resources[address]["state"] == "applying"
    findings.observe(
        parse_line(line(type="apply_complete", hook={"resource": {"addr": address}, "elapsed_seconds": 2}))
    )
    findings.observe(
        parse_line(line(type="change_summary", changes={"add": 3, "change": 1, "remove": 2, "operation": "apply"}))
    )
    findings.observe(
        parse_line(line(type="outputs", outputs={"a": {"value": 1}, "secret": {"sensitive": True, "value": "x"}}))
    )
    assert (findings.to_add, findings.to_change, findings.to_destroy) == (3, 1, 2)
    assert findings.resource_list() == [
        {"address": address, "action": "create", "state": "done", "started": findings.resources[address]["started"],
         "elapsed": 2, "id": ""}
    ]  # fmt: skip
    assert findings.outputs == {"a": 1, "secret": "(sensitive)"}
