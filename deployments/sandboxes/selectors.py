"""Reading sandboxes: a project's list, one sandbox as its owner sees it, its status, the failed destroys."""

import math
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from deployments.runs.choices import RunStatus
from deployments.sandboxes.models import Sandbox
from onboarding.models import Project

SELECT = (
    "project__team", "environment", "owner", "artifact", "create_run", "destroy_run", "destroy_requested_by",
)  # fmt: skip


class Status:
    CREATING = "creating"
    READY = "ready"
    CREATE_FAILED = "create_failed"
    DESTROYING = "destroying"
    DESTROY_FAILED = "destroy_failed"
    DESTROYED = "destroyed"


LABELS = {
    Status.CREATING: ("Creating", "warn"),
    Status.READY: ("Ready", "ok"),
    Status.CREATE_FAILED: ("Apply failed", "bad"),
    Status.DESTROYING: ("Destroying", "warn"),
    Status.DESTROY_FAILED: ("Destroy failed", "bad"),
    Status.DESTROYED: ("Destroyed", ""),
}


def sandbox_status(sandbox: Sandbox) -> str:
    if sandbox.destroyed_at is not None:
        return Status.DESTROYED
    destroy = sandbox.destroy_run
    if destroy is not None and not destroy.is_finished:
        return Status.DESTROYING
    if sandbox.destroy_failed:
        return Status.DESTROY_FAILED
    if destroy is not None:
        return Status.DESTROYING  # ended, its outcome about to be recorded
    create = sandbox.create_run
    if create is None or not create.is_finished:
        return Status.CREATING
    return Status.READY if create.status == RunStatus.SUCCEEDED else Status.CREATE_FAILED


def expires_in_text(expires_at: datetime, now: datetime | None = None) -> str:
    """ "expires in 5 h", "expires in 40 min", "expired 3 min ago": hours and days rounded, minutes up."""
    now = now or timezone.now()
    seconds = (expires_at - now).total_seconds()
    past, seconds = seconds < 0, abs(seconds)
    if seconds >= 47.5 * 3600:
        amount = f"{round(seconds / 86400)} days"
    elif seconds >= 3600:
        amount = f"{round(seconds / 3600)} h"
    else:
        amount = f"{max(math.ceil(seconds / 60), 1)} min"
    return f"expired {amount} ago" if past else f"expires in {amount}"


@dataclass
class SandboxView:
    """One sandbox as the pages and the API show it."""

    sandbox: Sandbox
    now: datetime

    @property
    def status(self) -> str:
        return sandbox_status(self.sandbox)

    @property
    def status_label(self) -> str:
        return LABELS[self.status][0]

    @property
    def badge(self) -> str:
        return LABELS[self.status][1]

    @property
    def live(self) -> bool:
        return self.sandbox.destroyed_at is None

    @property
    def expiring(self) -> bool:
        """Within SANDBOX_WARN_BEFORE of its expiry (or past it) and not being destroyed: the owner is warned."""
        if not self.live or self.sandbox.destroy_requested_at is not None:
            return False
        return (self.sandbox.expires_at - self.now).total_seconds() <= settings.SANDBOX_WARN_BEFORE

    @property
    def expires_text(self) -> str:
        if not self.live:
            return f"destroyed {timezone.localtime(self.sandbox.destroyed_at):%Y-%m-%d %H:%M}"
        if self.sandbox.destroy_requested_at is not None:
            return "being destroyed"
        return expires_in_text(self.sandbox.expires_at, self.now)

    @property
    def outputs(self) -> dict:
        run = self.sandbox.create_run
        if not self.live or run is None or run.status != RunStatus.SUCCEEDED:
            return {}
        return run.outputs or {}

    @property
    def run(self):
        """The run that says most now: the destroy once there is one, else the apply that created it."""
        return self.sandbox.destroy_run or self.sandbox.create_run


def project_sandboxes(project: Project) -> QuerySet[Sandbox]:
    return Sandbox.objects.filter(project=project, environment__isnull=False).select_related(*SELECT).order_by("-id")


def sandbox_views(sandboxes) -> list[SandboxView]:
    now = timezone.now()
    return [SandboxView(sandbox, now) for sandbox in sandboxes]


def sandbox_for_project(project: Project, pk) -> Sandbox:
    sandbox = project_sandboxes(project).filter(pk=pk).first() if str(pk).isdigit() else None
    if sandbox is None:
        raise Http404("No such sandbox.")
    return sandbox


def failed_destroys() -> list[SandboxView]:
    """Every sandbox whose latest destroy failed (retrying or not): the Operations page."""
    failed = Sandbox.objects.filter(destroyed_at__isnull=True, destroy_failed=True).select_related(*SELECT)
    return sandbox_views(failed.order_by("id"))
