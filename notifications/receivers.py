"""Signal receivers: events of runs, drift checks and the shared Airflow become notifications.

A receiver never fails the code that sent its signal: a notification that cannot be queued is logged."""

import logging

from deployments.drift.models import DriftCheck
from deployments.drift.signals import drift_changed
from deployments.runs.signals import run_awaiting, run_finished
from deployments.sandboxes.signals import sandbox_event
from notifications.payloads import absolute
from notifications.services import notify
from onboarding.shared_composer.signals import shared_change_finished

log = logging.getLogger(__name__)

# Operations whose success is news (a plan-only run changes nothing).
SUCCESS_OPERATIONS = ("apply", "destroy", "refresh")


def _safely(event: str, **context) -> None:
    try:
        notify(event, **context)
    except Exception:
        log.exception("notifications: could not send %s", event)


def on_run_finished(sender, run, **kwargs) -> None:
    if run.status == "failed":
        _safely("run.failed", run=run)
    elif run.status == "succeeded" and run.operation in SUCCESS_OPERATIONS:
        _safely("run.succeeded", run=run)


def on_run_awaiting(sender, run, **kwargs) -> None:
    _safely("run.approval_needed" if run.approval_required else "run.confirmation_needed", run=run)


def on_drift_changed(sender, check, previous=None, **kwargs) -> None:
    event = "drift.detected" if check.outcome == DriftCheck.Outcome.DRIFTED else "drift.resolved"
    _safely(event, check=check, previous=previous)


def on_shared_change_finished(sender, change, run=None, outcome="", **kwargs) -> None:
    _safely("shared_composer.change_finished", change=change, run=run, outcome=outcome)


def on_sandbox_event(sender, event, sandbox, error="", **kwargs) -> None:
    _safely(
        event,
        project=sandbox.project,
        environment=sandbox.name,
        name=sandbox.name,
        expires_at=sandbox.expires_at,
        error=error,
        actor=sandbox.owner.get_username() if sandbox.owner else None,
        url=absolute(sandbox.get_absolute_url()),
    )


def connect() -> None:
    run_finished.connect(on_run_finished, dispatch_uid="notifications.run_finished")
    run_awaiting.connect(on_run_awaiting, dispatch_uid="notifications.run_awaiting")
    drift_changed.connect(on_drift_changed, dispatch_uid="notifications.drift_changed")
    shared_change_finished.connect(on_shared_change_finished, dispatch_uid="notifications.shared_change_finished")
    sandbox_event.connect(on_sandbox_event, dispatch_uid="notifications.sandbox_event")
