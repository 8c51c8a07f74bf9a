"""Reads of saved plans: a run's plan as a person reviews it."""

from functools import lru_cache

from django.http import Http404

from deployments.artifacts.services import artifact_read_file
from deployments.plans.models import SavedPlan, SpeculativePlan
from deployments.plans.readable import ReadablePlan, readable_plan
from deployments.plans.services import SOURCES_MAX_BYTES, row_count_key, source_paths
from deployments.runs.choices import Operation
from deployments.runs.models import Run
from onboarding.access import visible_projects


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
    environment = saved.run.deployment.environment.definition
    counts = saved.row_counts or {}
    return readable_plan(
        saved.plan_json,
        sources=artifact_sources(saved.run.artifact, environment),
        row_counts=lambda project, dataset, table: counts.get(row_count_key(project, dataset, table)),
        main_yaml=f"infrastructure/{environment}/main.yaml",
        refresh_only=saved.run.operation == Operation.REFRESH,
    )


def run_readable_plan(run: Run) -> ReadablePlan | None:
    """The run's saved plan in the DSL's terms, or None before it has one."""
    # Only once its JSON is in: the binary plan is stored first, and what is cached here never changes.
    row = SavedPlan.objects.filter(run_id=run.pk).exclude(plan_json={}).values_list("pk", "sha256").first()
    return _readable(*row) if row else None


def speculative_plans_for(artifact) -> list[SpeculativePlan]:
    """What `artifact` would change in each environment that runs something, in the environments' order."""
    return list(
        SpeculativePlan.objects.filter(artifact=artifact)
        .select_related("deployment__environment")
        .defer("plan_json", "row_counts")
    )


def speculative_plan_for_user(user, plan_id: int) -> SpeculativePlan:
    """One speculative plan of a project the user may see; 404 otherwise."""
    plan = (
        SpeculativePlan.objects.filter(pk=plan_id, deployment__environment__project__in=visible_projects(user))
        .select_related("artifact__project", "deployment__environment")
        .first()
    )
    if plan is None:
        raise Http404(f"No speculative plan #{plan_id}.")
    return plan


@lru_cache(maxsize=32)
def _speculative_readable(plan_id: int, finished_at: str) -> ReadablePlan:
    # A finished speculative plan never changes (its end time is part of the key).
    plan = SpeculativePlan.objects.select_related("artifact", "deployment__environment").get(pk=plan_id)
    environment = plan.deployment.environment.definition
    counts = plan.row_counts or {}
    return readable_plan(
        plan.plan_json,
        sources=artifact_sources(plan.artifact, environment),
        row_counts=lambda project, dataset, table: counts.get(row_count_key(project, dataset, table)),
        main_yaml=f"infrastructure/{environment}/main.yaml",
    )


def speculative_readable(plan: SpeculativePlan) -> ReadablePlan | None:
    if plan.status != SpeculativePlan.Status.SUCCEEDED:
        return None
    return _speculative_readable(plan.pk, plan.finished_at.isoformat() if plan.finished_at else "")


def latest_speculative_plans(project) -> tuple[object, list[SpeculativePlan]]:
    """The newest upload that was planned speculatively, and its plans ((None, []) when none was)."""
    latest = (
        SpeculativePlan.objects.filter(artifact__project=project).select_related("artifact").order_by("-id").first()
    )
    if latest is None:
        return None, []
    return latest.artifact, speculative_plans_for(latest.artifact)
