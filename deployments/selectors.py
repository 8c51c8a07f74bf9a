"""Reads for deployments, runs and artifacts, filtered by what the user may see."""

from django.db.models import QuerySet
from django.http import Http404

from deployments.models import Artifact, Deployment, Run
from onboarding.access import visible_projects
from onboarding.models import Project


def visible_runs(user) -> QuerySet[Run]:
    return Run.objects.filter(deployment__environment__project__in=visible_projects(user)).select_related(
        "deployment__environment__project", "artifact", "requested_by", "approved_by"
    )


def run_for_user(user, run_id: int) -> Run:
    try:
        return visible_runs(user).get(pk=run_id)
    except Run.DoesNotExist:
        raise Http404(f"No run #{run_id}.") from None


def project_artifacts(project: Project) -> QuerySet[Artifact]:
    return Artifact.objects.filter(project=project).select_related("uploaded_by").order_by("-version_key")


def artifact_for_project(project: Project, version: str) -> Artifact:
    try:
        return project_artifacts(project).get(version=version)
    except Artifact.DoesNotExist:
        raise Http404(f"{project} has no artifact version {version!r}.") from None


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
