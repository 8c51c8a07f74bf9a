"""Figures for the people who run Hangar: how runs fare, what is stuck, who adopts it."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from deployments.runs.choices import ACTIVE_STATUSES, Operation, RunStatus
from deployments.runs.models import Deployment, Run
from onboarding.models import Project

LOST_MARK = "stopped responding"  # how the reaper's message begins to explain a lost worker


@dataclass
class Window:
    days: int
    total: int
    by_status: dict[str, int]
    failure_rate: float | None  # failed / (succeeded + failed)
    lost: int
    not_isolated: int  # runs whose worker had RUN_SANDBOX=off
    apply_median: float | None  # seconds, succeeded applies
    apply_p95: float | None


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _window(now: datetime, days: int) -> Window:
    runs = Run.objects.filter(created_at__gte=now - timedelta(days=days))
    by_status = dict(runs.values_list("status").annotate(n=Count("id")).order_by())
    succeeded, failed = by_status.get(RunStatus.SUCCEEDED, 0), by_status.get(RunStatus.FAILED, 0)
    durations = [
        (finished - started).total_seconds()
        for started, finished in runs.filter(operation=Operation.APPLY, status=RunStatus.SUCCEEDED)
        .exclude(started_at=None)
        .order_by("-id")
        .values_list("started_at", "finished_at")[:10_000]
    ]
    return Window(
        days=days,
        total=sum(by_status.values()),
        by_status={status: by_status.get(status, 0) for status in RunStatus.values},
        failure_rate=failed / (succeeded + failed) if succeeded + failed else None,
        lost=runs.filter(status=RunStatus.FAILED, error__contains=LOST_MARK).count(),
        not_isolated=runs.filter(isolated=False).count(),
        apply_median=median(durations) if durations else None,
        apply_p95=_percentile(durations, 0.95),
    )


def operations_summary(*, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    month_ago = now - timedelta(days=30)
    return {
        "windows": [_window(now, 7), _window(now, 30)],
        "running": Run.objects.filter(status__in=ACTIVE_STATUSES)
        .exclude(status=RunStatus.PLANNED, plan_expires_at__isnull=False)
        .count(),
        "queued": Run.objects.filter(status=RunStatus.QUEUED).count(),
        # Planned runs parked for a person (plan_expires_at is set only then), holding their slots.
        "awaiting_confirmation": Run.objects.filter(status=RunStatus.PLANNED, plan_expires_at__isnull=False).count(),
        "awaiting_approval": Run.objects.filter(
            status=RunStatus.PLANNED, plan_expires_at__isnull=False, approval_required=True
        ).count(),
        "oldest_queued": Run.objects.filter(status=RunStatus.QUEUED)
        .select_related("deployment__environment")
        .order_by("id")
        .first(),
        "locked": Deployment.objects.exclude(lock_id="")
        .select_related("environment", "lock_run")
        .order_by("locked_at"),
        "failing_projects": Project.objects.annotate(
            failed=Count(
                "environments__deployments__runs",
                filter=Q(
                    environments__deployments__runs__status=RunStatus.FAILED,
                    environments__deployments__runs__created_at__gte=month_ago,
                ),
            )
        )
        .filter(failed__gt=0)
        .order_by("-failed", "slug")[:5],
        "projects_by_month": list(
            Project.objects.annotate(month=TruncMonth("created_at"))
            .values("month")
            .annotate(n=Count("id"))
            .order_by("-month")[:6]
        ),
        "projects": Project.objects.count(),
        "deployed": Deployment.objects.exclude(deployed_artifact=None).count(),
    }
