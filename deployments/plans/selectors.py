"""Reads of saved plans: a run's plan as a person reviews it."""

from functools import lru_cache

from deployments.artifacts.services import artifact_read_file
from deployments.plans.models import SavedPlan
from deployments.plans.readable import ReadablePlan, readable_plan
from deployments.plans.services import SOURCES_MAX_BYTES, row_count_key, source_paths
from deployments.runs.models import Run


def saved_plan_for(run: Run) -> SavedPlan | None:
    return SavedPlan.objects.filter(run_id=run.pk).defer("data").first()


def artifact_sources(artifact, environment: str) -> dict[str, str]:
    """The texts a plan review links to, read from the stored artifact (bounded; unreadable files skipped)."""
    sources, budget = {}, SOURCES_MAX_BYTES
    for path in source_paths(environment, artifact.manifest.get("files", {})):
        try:
            data = artifact_read_file(artifact=artifact, path=path, limit=budget)
        except (KeyError, ValueError, OSError):
            continue
        budget -= len(data)
        sources[path] = data.decode("utf-8", "replace")
        if budget <= 0:
            break
    return sources


@lru_cache(maxsize=32)
def _readable(saved_plan_id: int, sha256: str) -> ReadablePlan:
    # A saved plan never changes (its digest is part of the key): read it once per process.
    saved = SavedPlan.objects.select_related("run__artifact", "run__deployment__environment").get(pk=saved_plan_id)
    environment = saved.run.deployment.environment.name
    counts = saved.row_counts or {}
    return readable_plan(
        saved.plan_json,
        sources=artifact_sources(saved.run.artifact, environment),
        row_counts=lambda project, dataset, table: counts.get(row_count_key(project, dataset, table)),
        main_yaml=f"infrastructure/{environment}/main.yaml",
    )


def run_readable_plan(run: Run) -> ReadablePlan | None:
    """The run's saved plan in the DSL's terms, or None before it has one."""
    row = SavedPlan.objects.filter(run_id=run.pk).values_list("pk", "sha256").first()
    return _readable(*row) if row else None
