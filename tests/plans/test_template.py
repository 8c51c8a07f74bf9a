"""The readable plan's partial: DSL names with links to main.yaml lines, diffs, warnings first, all escaped."""

import json
from types import SimpleNamespace

from django.template.loader import render_to_string

from deployments.plans.readable import readable_plan

MAIN_YAML = "infrastructure/dev/main.yaml"
YAML = """\
infrastructure:
  gcp:
    datasets:
      - name: kpis
        tables:
          - name: daily
            parameters:
              schema: "file:bq_schemas/daily.json"
"""
ARTIFACT = SimpleNamespace(project=SimpleNamespace(slug="sc-123-example"), version="0.1.2")


def table_change(actions, before, after, address="module.table_kpis--daily.localcloud_table.this") -> dict:
    return {
        "address": address,
        "module_address": address.rsplit(".localcloud_", 1)[0],
        "type": "localcloud_table",
        "change": {"actions": actions, "before": before, "after": after},
    }


def render(plan: dict, **context) -> str:
    readable = readable_plan(plan, sources={MAIN_YAML: YAML}, row_counts=lambda *_: 12)
    return render_to_string("deployments/partials/plan_readable.html", {"plan": readable, **context})


def test_renders_names_links_diffs_and_warnings() -> None:
    before = {"project": "p", "dataset_id": "kpis", "table_id": "daily", "labels": {"gdpr": "0"}}
    after = {**before, "labels": {"gdpr": "1"}}
    gone = {"project": "p", "dataset_id": "kpis", "table_id": "old"}
    plan = {
        "resource_changes": [
            table_change(["update"], before, after),
            table_change(["delete"], gone, None, "module.table_kpis--old.localcloud_table.this"),
        ]
    }
    html = render(plan, artifact=ARTIFACT)
    assert "Table <code>kpis.daily</code>" in html
    assert 'href="/projects/sc-123-example/artifacts/0.1.2/files/infrastructure/dev/main.yaml#L6"' in html
    assert "label <code>gdpr</code>" in html and '<del><span class="visually-hidden">was </span>0</del>' in html
    assert '<ins><span class="visually-hidden">now </span>1</ins>' in html
    assert (
        '<span class="badge warn">update in place</span>' in html and '<span class="badge bad">destroy</span>' in html
    )
    warnings = html.index('class="plan-warnings"')
    assert warnings < html.index("Table <code>kpis.daily</code>"), "warnings come first"
    assert "<code>kpis.old</code> will be destroyed while holding 12 rows" in html
    # Without an artifact there is no link, but the line is still named.
    assert "<a " not in render(plan) and "infrastructure/dev/main.yaml, line 6" in render(plan)


def test_empty_plan() -> None:
    assert "No changes." in render({"format_version": "0.2"})


def test_values_from_users_are_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    before = {"project": "p", "dataset_id": "kpis", "table_id": "daily", "description": "ok", "labels": {}}
    after = {**before, "description": hostile, "labels": {"`<b>`": hostile}}
    schema = json.dumps([{"name": "c", "type": "STRING", "description": hostile}])
    plan = {
        "resource_changes": [
            table_change(["update"], {**before, "schema": "[]"}, {**after, "schema": schema}),
            table_change(
                ["delete"], {**before, "table_id": hostile}, None, f"module.table_kpis--x.localcloud_table.{hostile}"
            ),
        ],
        "resource_drift": [table_change(["update"], before, after)],
    }
    html = render(plan, artifact=ARTIFACT)
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
