"""Status values and their badge colours, in one place for models, pages and API."""

from django.db import models


class Target(models.TextChoices):
    LOCAL = "local", "local"
    GCP = "gcp", "gcp"


class Operation(models.TextChoices):
    PLAN = "plan", "Plan"
    APPLY = "apply", "Apply"
    DESTROY = "destroy", "Destroy"
    # `terraform apply -refresh-only` of the deployed version: the state takes what really exists (drift).
    REFRESH = "refresh", "Accept reality"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PLANNING = "planning", "Planning"
    PLANNED = "planned", "Planned"
    CONFIRMED = "confirmed", "Confirmed"
    APPLYING = "applying", "Applying"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    DISCARDED = "discarded", "Discarded"


# Holding the deployment's slot past the queue. A planned run that waits for a person has no worker (and no
# heartbeat or state credential); a confirmed one waits for a worker to apply its saved plan.
ACTIVE_STATUSES = (RunStatus.PLANNING, RunStatus.PLANNED, RunStatus.CONFIRMED, RunStatus.APPLYING)
FINAL_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.DISCARDED)

BADGES = {
    RunStatus.QUEUED: "info",
    RunStatus.PLANNING: "warn",
    RunStatus.PLANNED: "warn",
    RunStatus.CONFIRMED: "info",
    RunStatus.APPLYING: "warn",
    RunStatus.SUCCEEDED: "ok",
    RunStatus.FAILED: "bad",
    RunStatus.CANCELLED: "",
    RunStatus.DISCARDED: "",
}
