"""Deletion protection at plan time: which changes of a saved plan would delete a protected table.

A table is protected from deletion unless its `deletion_protection` is false (docs/dsl.md), as
with GCP's `google_bigquery_table`. The local cloud refuses such a delete at apply; this check
refuses the plan before anything changes. The runner calls `protected_table_problems` on the
output of `terraform show -json <saved plan>` and fails the run, before apply, when it returns
anything. Pure: no Django, no I/O.
"""

from __future__ import annotations

import re

TABLE_TYPE = "localcloud_table"
# The tables of every target: the local cloud's and BigQuery's (gcp), which has the same flag.
TABLE_TYPES = (TABLE_TYPE, "google_bigquery_table")
# The compiler names a table's module `table_<dataset>--<table>` (deployments.dsl.compiler).
_DSL_MODULE = re.compile(r"^module\.table_(?P<dataset>[A-Za-z0-9_]+)--(?P<table>[A-Za-z0-9_]+)$")

HOW_TO_REMOVE = "To remove the table on purpose: set `{setting}`, deploy that, then remove the table."
HOW_TO_DESTROY = (
    "Destroying the environment requires setting `{setting}` on its tables first: set it, deploy that, "
    "then destroy the environment."
)


def protected_table_problems(plan_json: dict, *, destroy: bool | None = None) -> list[str]:
    """One message per protected table (`localcloud_table`, `google_bigquery_table`) the plan would delete (destroy or replace).

    `plan_json` is `terraform show -json` of a saved plan. Protected: `change.before.deletion_protection`
    is true, or missing/null (state written before the flag existed, or a refresh that did not run:
    protected, the safe side). `destroy`: the plan is `terraform plan -destroy`; None works it out
    (every change deletes and nothing is planned to remain). Messages name the table in DSL terms,
    `dataset.table`, when its module is the compiler's `module.table_<dataset>--<table>`, else by
    its resource address, and say how to remove it on purpose.
    """
    changes = [c for c in plan_json.get("resource_changes") or [] if isinstance(c, dict)]
    if destroy is None:
        destroy = _is_destroy_plan(plan_json, changes)
    problems = []
    for resource in changes:
        if resource.get("type") not in TABLE_TYPES or resource.get("mode", "managed") != "managed":
            continue
        change = resource.get("change") or {}
        actions = change.get("actions") or []
        if "delete" not in actions:
            continue
        before = change.get("before")
        if isinstance(before, dict) and before.get("deletion_protection") is False:
            continue
        problems.append(_message(resource, change, before if isinstance(before, dict) else {}, destroy))
    return problems


def dsl_table_name(module_address: str | None) -> str | None:
    """`dataset.table` of a table module the compiler wrote, else None."""
    match = _DSL_MODULE.fullmatch(module_address or "")
    return f"{match['dataset']}.{match['table']}" if match else None


def _message(resource: dict, change: dict, before: dict, destroy: bool) -> str:
    address = str(resource.get("address") or TABLE_TYPE)
    name = dsl_table_name(resource.get("module_address"))
    # DSL users write YAML; plain Terraform (and an unknown module) writes HCL.
    setting = "deletion_protection: false" if name else "deletion_protection = false"
    if name is None:
        dataset, table = before.get("dataset_id"), before.get("table_id")
        name = f"{dataset}.{table} ({address})" if dataset and table else address
    else:
        name = f"{name} ({address})"
    protected = f"Table {name} is protected from deletion (deletion_protection is true)"
    actions = change.get("actions") or []
    if destroy:
        return f"{protected}, and destroying the environment would delete it and its rows. " + HOW_TO_DESTROY.format(
            setting=setting
        )
    if "create" in actions:
        because = _replaced_by(change)
        return (
            f"{protected}, and this plan would replace it: delete it, losing its rows, and create it again"
            f"{because}. {HOW_TO_REMOVE.format(setting=setting)} To replace it, deploy the change that "
            "replaces it instead of removing it."
        )
    return f"{protected}, and this plan would delete it and its rows. " + HOW_TO_REMOVE.format(setting=setting)


def _replaced_by(change: dict) -> str:
    """' because time_partitioning changes', from the plan's replace_paths when it has them."""
    paths = change.get("replace_paths") or []
    names = sorted({str(path[0]) for path in paths if isinstance(path, list) and path})
    return f" because {', '.join(names)} {'changes' if len(names) == 1 else 'change'}" if names else ""


def _is_destroy_plan(plan_json: dict, changes: list[dict]) -> bool:
    """Every resource change deletes, and no resource is planned to remain (unknown: not a destroy)."""
    if (
        "planned_values" not in plan_json
        or not changes
        or any(set(c.get("change", {}).get("actions") or []) - {"delete"} for c in changes)
    ):
        return False
    return not _has_resources((plan_json.get("planned_values") or {}).get("root_module") or {})


def _has_resources(module: dict) -> bool:
    return bool(module.get("resources")) or any(_has_resources(m) for m in module.get("child_modules") or [])
