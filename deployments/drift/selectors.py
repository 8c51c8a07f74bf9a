"""Reading drift checks: one a user may see, a deployment's history, and the deployments that drifted."""

from django.db.models import QuerySet
from django.http import Http404

from deployments.drift.health import deployment_health
from deployments.drift.models import DriftCheck
from deployments.runs.models import Deployment
from onboarding.access import visible_projects

LIGHT = ("log", "error", "resources")  # what a list of checks does not need


def check_for_user(user, pk: int) -> DriftCheck:
    """A check of a project the user may see, else 404 (another team's checks leak nowhere)."""
    check = (
        DriftCheck.objects.select_related("deployment__environment__project", "artifact", "requested_by")
        .filter(pk=pk, deployment__environment__project__in=visible_projects(user))
        .first()
    )
    if check is None:
        raise Http404(f"No drift check {pk}.")
    return check


def deployment_checks(deployment: Deployment) -> QuerySet[DriftCheck]:
    """A deployment's checks, newest first, without their logs."""
    return deployment.drift_checks.select_related("artifact", "requested_by").defer(*LIGHT).order_by("-id")


def pending_check(deployment: Deployment) -> DriftCheck | None:
    return deployment.drift_checks.filter(status__in=("queued", "running")).defer(*LIGHT).order_by("-id").first()


def drifted_deployments(projects=None) -> list[Deployment]:
    """Deployments whose Health is Drifted now, of `projects` (a queryset; None: all), most drifted first."""
    deployments = Deployment.objects.filter(
        deployed_artifact__isnull=False, last_drift_check__outcome=DriftCheck.Outcome.DRIFTED
    ).select_related("environment__project", "deployed_artifact", "last_run", "last_drift_check")
    if projects is not None:
        deployments = deployments.filter(environment__project__in=projects)
    drifted = [d for d in deployments.defer("last_drift_check__log") if deployment_health(d).status == "drifted"]
    return sorted(drifted, key=lambda d: (-d.last_drift_check.drifted_count, d.pk))
