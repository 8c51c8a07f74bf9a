"""The deployments table: one row per environment + target of a project,
including rows never deployed, sortable by every column."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from deployments.runs.choices import Target
from deployments.runs.models import Deployment, Run
from onboarding.models import Environment, Project

SORT_KEYS = {
    "environment": lambda row: (row.environment.position, row.target),
    "target": lambda row: (row.target, row.environment.position),
    "version": lambda row: (row.version_key, row.environment.position),
    "status": lambda row: (row.status or "", row.environment.position),
    "deployed_by": lambda row: (row.deployed_by or "", row.environment.position),
    "deployed_at": lambda row: (row.deployed_at.timestamp() if row.deployed_at else 0, row.environment.position),
}


@dataclass
class DeploymentRow:
    environment: Environment
    target: str
    deployment: Deployment | None

    @property
    def run(self) -> Run | None:
        return self.deployment.current_run if self.deployment else None

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
        return self.run.status if self.run else None

    @property
    def deployed_by(self) -> str | None:
        run = self.run
        return run.requested_by.get_username() if run and run.requested_by else None

    @property
    def deployed_at(self) -> datetime | None:
        run = self.run
        return (run.finished_at or run.created_at) if run else None


def deployment_rows(*, project: Project, sort: str = "environment") -> list[DeploymentRow]:
    """Every environment × target, with its deployment if it has one. Two queries, whatever the history."""
    existing = {(d.environment_id, d.target): d for d in project_deployments(project)}
    rows = [
        DeploymentRow(environment=env, target=target, deployment=existing.get((env.pk, target)))
        for env in project.environments.all()
        for target in Target.values
    ]
    descending = sort.startswith("-")
    key = SORT_KEYS.get(sort.lstrip("-"), SORT_KEYS["environment"])
    return sorted(rows, key=key, reverse=descending)


def project_deployments(project: Project) -> QuerySet[Deployment]:
    """The deployments table: one row per environment + target, with what it needs in one query."""
    return Deployment.objects.filter(environment__project=project).select_related(
        "environment",
        "deployed_artifact",
        "last_run__artifact",
        "last_run__requested_by",
        "active_run__artifact",
        "active_run__requested_by",
    )
