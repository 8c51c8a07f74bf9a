"""Reads of a project's artifacts."""

from django.db.models import QuerySet
from django.http import Http404

from deployments.artifacts.models import Artifact
from onboarding.models import Project


def project_artifacts(project: Project) -> QuerySet[Artifact]:
    return Artifact.objects.filter(project=project).select_related("uploaded_by").order_by("-version_key")


def artifact_for_project(project: Project, version: str) -> Artifact:
    try:
        return project_artifacts(project).get(version=version)
    except Artifact.DoesNotExist:
        raise Http404(f"{project} has no artifact version {version!r}.") from None
