"""Keeping a run's saved plan, and what its review needs from the cloud: how many rows a table
holds before it is destroyed."""

import hashlib
from collections.abc import Iterable

from deployments.plans.models import SavedPlan
from deployments.plans.readable import ReadablePlan, readable_plan
from deployments.runs.models import Run
from deployments.state.models import StateVersion
from localcloud.errors import LocalCloudError
from portal.localcloud import operator_client

# A saved plan's sources: this environment's main.yaml and the schema files (links and column names).
SCHEMAS_PREFIX = "infrastructure/bq_schemas/"
SOURCES_MAX_BYTES = 4 * 1024 * 1024


def table_row_count(project_id: str, dataset_id: str, table_id: str) -> int | None:
    """Rows of a table in the local cloud (the table GET's `num_rows`); None when it cannot be told
    (no such table, the service unreachable): the warning then says the count is unknown."""
    try:
        view = operator_client().get_table(project_id, dataset_id, table_id)
    except (LocalCloudError, OSError):
        return None
    rows = view.get("num_rows") if isinstance(view, dict) else None
    return rows if isinstance(rows, int) and not isinstance(rows, bool) else None


def row_count_key(project_id: str, dataset_id: str, table_id: str) -> str:
    return f"{project_id}/{dataset_id}/{table_id}"


def source_paths(environment: str, paths: Iterable[str]) -> list[str]:
    """The artifact files a plan review reads: the environment's main.yaml and the schema files."""
    main_yaml = f"infrastructure/{environment}/main.yaml"
    return [path for path in paths if path == main_yaml or path.startswith(SCHEMAS_PREFIX)]


def plan_review(
    plan_json: dict, *, sources: dict[str, str], environment: str, refresh_only: bool = False
) -> tuple[ReadablePlan, dict]:
    """Read a fresh plan in the DSL's terms, asking the local cloud for the rows of every table it
    would delete; returns the plan and those counts, kept with it (the review shows them later).
    `refresh_only`: a `-refresh-only` plan, whose changes are the drift the state takes."""
    counts: dict[str, int | None] = {}

    def row_counts(project_id: str, dataset_id: str, table_id: str) -> int | None:
        key = row_count_key(project_id, dataset_id, table_id)
        if key not in counts:
            counts[key] = table_row_count(project_id, dataset_id, table_id)
        return counts[key]

    readable = readable_plan(
        plan_json,
        sources=sources,
        row_counts=row_counts,
        main_yaml=f"infrastructure/{environment}/main.yaml",
        refresh_only=refresh_only,
    )
    return readable, counts


def plan_has_changes(plan_json: dict, *, refresh_only: bool = False) -> bool:
    """True when applying the plan would change a resource or an output (Terraform's "No changes" otherwise).

    A `-refresh-only` plan changes no resource: what it changes is the state, which takes every resource
    changed outside Terraform (`resource_drift`)."""
    keys = ("resource_drift", "output_changes") if refresh_only else ("resource_changes", "output_changes")
    for key in keys:
        entries = plan_json.get(key) or {}
        changes = entries.values() if isinstance(entries, dict) else entries
        for entry in changes:
            actions = ((entry or {}).get("change") or {}).get("actions") or []
            if any(action not in ("no-op", "read") for action in actions):
                return True
    return False


def _current_state(deployment_id: int) -> StateVersion | None:
    # Which version, not its body: a state can be many mebibytes.
    return (
        StateVersion.objects.filter(deployment_id=deployment_id).order_by("-id").only("id", "serial", "run_id").first()
    )


def plan_store(*, run: Run, data: bytes, plan_json: dict, readable: ReadablePlan, row_counts: dict) -> SavedPlan:
    """Keep a run's saved plan with the state it was made against (for the stale check at confirm)."""
    saved = plan_store_file(run=run, data=data)
    return plan_describe(saved=saved, plan_json=plan_json, readable=readable, row_counts=row_counts)


def plan_store_file(*, run: Run, data: bytes) -> SavedPlan:
    """Keep the binary plan first, and what it was made against; its JSON can follow (plan_describe)."""
    return SavedPlan.objects.create(
        run=run,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        state_version=_current_state(run.deployment_id),
    )


def plan_describe(*, saved: SavedPlan, plan_json: dict, readable: ReadablePlan, row_counts: dict) -> SavedPlan:
    """Add `terraform show -json` of the saved plan and what its review found."""
    saved.plan_json, saved.row_counts = plan_json, row_counts
    saved.has_changes = plan_has_changes(plan_json, refresh_only=readable.refresh_only)
    saved.destroys = readable.destroys_anything or readable.replaces_anything
    saved.save(update_fields=["plan_json", "row_counts", "has_changes", "destroys"])
    return saved


def plan_stale_reason(saved: SavedPlan, *, deployment_id: int | None = None) -> str:
    """Why the saved plan no longer fits the state ("" when it still does): Terraform refuses to apply
    a plan made against another state, and so does Hangar before it hands it to a worker."""
    current = _current_state(deployment_id or saved.run.deployment_id)
    if (current.pk if current else None) == saved.state_version_id:
        return ""
    if current is None:
        return "the state it was made against is gone"
    return (
        f"the state changed after this plan was made (now serial {current.serial}"
        + (f", written by run #{current.run_id}" if current.run_id else "")
        + "); plan again to see what an apply would change now"
    )
