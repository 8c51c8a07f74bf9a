"""Reads of runs, filtered by what the user may see, and a run's place in its queue."""

from django.db.models import QuerySet
from django.http import Http404

from deployments.runs.choices import RunStatus
from deployments.runs.models import Deployment, Run
from onboarding.access import visible_projects


def visible_runs(user) -> QuerySet[Run]:
    return Run.objects.filter(deployment__environment__project__in=visible_projects(user)).select_related(
        "deployment__environment__project", "artifact", "requested_by", "approved_by"
    )


def run_for_user(user, run_id: int) -> Run:
    try:
        return visible_runs(user).get(pk=run_id)
    except Run.DoesNotExist:
        raise Http404(f"No run #{run_id}.") from None


def queue_position(run: Run) -> int:
    """How many runs go before this queued one (0 = it is next)."""
    if run.status != RunStatus.QUEUED:
        return 0
    active = Deployment.objects.filter(pk=run.deployment_id).values_list("active_run_id", flat=True).first()
    if active == run.pk:
        return 0
    # The active run may itself still be "queued" (claimed, not yet started): count it once.
    ahead = Run.objects.filter(deployment_id=run.deployment_id, status=RunStatus.QUEUED, id__lt=run.pk)
    return ahead.exclude(pk=active).count() + (1 if active else 0)
