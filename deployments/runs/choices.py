"""Status values and their badge colours, in one place for models, pages and API."""

from django.db import models


class Target(models.TextChoices):
    LOCAL = "local", "local"


class Operation(models.TextChoices):
    PLAN = "plan", "Plan"
    APPLY = "apply", "Apply"
    DESTROY = "destroy", "Destroy"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PLANNING = "planning", "Planning"
    PLANNED = "planned", "Planned"
    APPLYING = "applying", "Applying"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (RunStatus.PLANNING, RunStatus.PLANNED, RunStatus.APPLYING)
FINAL_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)

BADGES = {
    RunStatus.QUEUED: "info",
    RunStatus.PLANNING: "warn",
    RunStatus.PLANNED: "warn",
    RunStatus.APPLYING: "warn",
    RunStatus.SUCCEEDED: "ok",
    RunStatus.FAILED: "bad",
    RunStatus.CANCELLED: "",
}
