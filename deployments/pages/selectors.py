"""The deployments table: one row per environment + target of a project,
including rows never deployed, sortable by every column."""

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from django.db.models import OuterRef, QuerySet, Subquery

from deployments.artifacts.models import Artifact
from deployments.artifacts.selectors import project_artifacts
from deployments.drift.health import Health, deployment_health
from deployments.runs import targets as run_targets
from deployments.runs.choices import FINAL_STATUSES, Operation, Target
from deployments.runs.models import Deployment, Run
from onboarding.models import Environment, Project

SORT_KEYS = {
    "environment": lambda row: (row.environment.position, row.target),
    "target": lambda row: (row.target, row.environment.position),
    "version": lambda row: (row.version_key, row.environment.position),
    "status": lambda row: (row.status or "", row.environment.position),
    "last_run": lambda row: (row.run_at.timestamp() if row.run_at else 0, row.environment.position),
    "deployed_by": lambda row: (row.deployed_by or "", row.environment.position),
    "deployed_at": lambda row: (row.deployed_at.timestamp() if row.deployed_at else 0, row.environment.position),
    "health": lambda row: (HEALTH_ORDER[row.health.status], -len(row.health.drifted), row.environment.position),
}
HEALTH_ORDER = {"drifted": 0, "check_failed": 1, "unchecked": 2, "in_sync": 3}


@dataclass
class DeploymentRow:
    environment: Environment
    target: str
    deployment: Deployment | None

    @property
    def run(self) -> Run | None:
        """The run that says most about the row now: the one running, else the last one (the Last run column)."""
        return self.deployment.current_run if self.deployment else None

    @property
    def run_at(self) -> datetime | None:
        run = self.run
        return (run.finished_at or run.started_at or run.created_at) if run else None

    @property
    def last_run(self) -> Run | None:
        """The latest run that finished, whatever its operation and outcome."""
        return self.deployment.last_run if self.deployment else None

    @property
    def last_run_operation(self) -> str | None:
        return self.last_run.operation if self.last_run else None

    @property
    def last_run_status(self) -> str | None:
        return self.last_run.status if self.last_run else None

    @property
    def last_run_at(self) -> datetime | None:
        return self.last_run.finished_at if self.last_run else None

    @property
    def deployed_run(self) -> Run | None:
        """The successful apply that deployed the row's version; None when nothing is deployed."""
        return self.deployment.deployed_run if self.deployment and self.deployment.deployed_artifact_id else None

    @property
    def version(self) -> str | None:
        artifact = self.deployment.deployed_artifact if self.deployment else None
        return artifact.version if artifact else None

    @property
    def version_key(self) -> str:
        artifact = self.deployment.deployed_artifact if self.deployment else None
        return artifact.version_key if artifact else ""

    @property
    def status(self) -> str | None:
        """The status of the run running now, else of the last one."""
        return self.run.status if self.run else None

    @property
    def deployed_by(self) -> str | None:
        run = self.deployed_run
        return run.requested_by.get_username() if run and run.requested_by else None

    @property
    def deployed_at(self) -> datetime | None:
        run = self.deployed_run
        return (run.finished_at or run.created_at) if run else None

    @cached_property
    def health(self) -> Health:
        """What the newest drift check says (docs/drift.md)."""
        return deployment_health(self.deployment)


def deployment_rows(*, project: Project, sort: str = "environment") -> list[DeploymentRow]:
    """Every environment × target, with its deployment if it has one. Two queries, whatever the history."""
    existing = {(d.environment_id, d.target): d for d in project_deployments(project)}
    # Targets runs may use here, and any other that already has a deployment (it stays visible).
    shown = set(run_targets.available()) | {target for _, target in existing}
    rows = [
        DeploymentRow(environment=env, target=target, deployment=existing.get((env.pk, target)))
        for env in project.environments.all()
        for target in Target.values
        if target in shown
    ]
    descending = sort.startswith("-")
    key = SORT_KEYS.get(sort.lstrip("-"), SORT_KEYS["environment"])
    return sorted(rows, key=key, reverse=descending)


def project_deployments(project: Project) -> QuerySet[Deployment]:
    """The deployments table: one row per environment + target, with what it needs in one query."""
    return (
        Deployment.objects.filter(environment__project=project)
        .select_related(
            "environment",
            "deployed_artifact",
            "deployed_run__requested_by",
            "last_run__artifact",
            "last_run__requested_by",
            "active_run__artifact",
            "active_run__requested_by",
            "last_drift_check",
        )
        .defer("last_drift_check__log", "last_drift_check__error")
    )


def deploy_versions(project: Project) -> QuerySet[Artifact]:
    """The Deploy form's versions, newest first, each with `last_plan_status`: the outcome of
    the latest finished plan of that version on any environment or target (None: never planned)."""
    last_plan = Run.objects.filter(artifact=OuterRef("pk"), operation=Operation.PLAN, status__in=FINAL_STATUSES)
    return project_artifacts(project).annotate(
        last_plan_status=Subquery(last_plan.order_by("-finished_at", "-id").values("status")[:1])
    )
