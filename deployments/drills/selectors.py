"""Reading recovery drills, for admins."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from deployments.drills.models import RecoveryDrill

RECENT = 20


def _admin_only(user) -> None:
    if not user.is_staff:
        raise PermissionDenied("Recovery drills are for Hangar's admins.")


def recent_drills(user, limit: int = RECENT) -> list[RecoveryDrill]:
    _admin_only(user)
    return list(RecoveryDrill.objects.select_related("project", "started_by").order_by("-id")[:limit])


def drill_for_user(user, pk: int) -> RecoveryDrill:
    _admin_only(user)
    return get_object_or_404(RecoveryDrill.objects.select_related("project", "started_by"), pk=pk)


def drill_rows(drill: RecoveryDrill) -> list:
    return list(drill.environments.select_related("deployment__environment__project", "artifact").order_by("position"))


def drillable_projects() -> list:
    """Projects with at least one deployed environment: what the button's scope may name."""
    from onboarding.models import Project

    return list(
        Project.objects.filter(environments__deployments__deployed_artifact__isnull=False)
        .distinct()
        .order_by("service_control_id", "name")
    )
