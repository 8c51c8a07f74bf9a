"""A deployment's Health: what its newest drift check says about the cloud now (the deployments table's column)."""

from dataclasses import dataclass
from datetime import datetime

from deployments.drift.models import DriftCheck
from deployments.runs.models import Deployment

IN_SYNC, DRIFTED, CHECK_FAILED, UNCHECKED = "in_sync", "drifted", "check_failed", "unchecked"
BADGES = {IN_SYNC: "ok", DRIFTED: "warn", CHECK_FAILED: "bad", UNCHECKED: ""}


@dataclass(frozen=True)
class Health:
    status: str  # in_sync, drifted, check_failed, unchecked
    checked_at: datetime | None = None
    drifted: tuple[str, ...] = ()  # addresses of the drifted resources
    check_id: int | None = None
    # Why a deployed version counts as unchecked although it was checked: a run finished since.
    stale: bool = False

    @property
    def label(self) -> str:
        if self.status == DRIFTED:
            return f"Drifted ({len(self.drifted)})"
        if self.status == IN_SYNC:
            return "In sync"
        if self.status == CHECK_FAILED:
            return "Check failed"
        return "Not checked since the last run" if self.stale else "Not checked yet"

    @property
    def badge(self) -> str:
        return BADGES[self.status]


def deployment_health(deployment: Deployment | None) -> Health:
    """From `deployment.last_drift_check` (select it with the deployment). A run that finished after the check
    makes it say nothing about the cloud now: unchecked, until the next sweep looks again."""
    check = deployment.last_drift_check if deployment and deployment.deployed_artifact_id else None
    if check is None:
        return Health(UNCHECKED)
    last_run = deployment.last_run
    if last_run is not None and last_run.finished_at and check.finished_at and last_run.finished_at > check.finished_at:
        return Health(UNCHECKED, checked_at=check.finished_at, check_id=check.pk, stale=True)
    status = {DriftCheck.Outcome.DRIFTED: DRIFTED, DriftCheck.Outcome.IN_SYNC: IN_SYNC}.get(check.outcome, CHECK_FAILED)
    return Health(status, checked_at=check.finished_at, drifted=tuple(check.drifted_addresses), check_id=check.pk)
