"""The events Hangar sends, in one registry: their names (stable: receivers filter on them), what they mean,
and the one-line text of each (e-mail subjects, chat messages). Payloads are built in `payloads`."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    name: str
    label: str
    description: str
    default: bool = True  # chosen for a new destination unless someone unticks it


EVENTS: dict[str, Event] = {
    event.name: event
    for event in (
        Event("run.confirmation_needed", "Run needs confirmation",
              "A run's saved plan waits for someone who may deploy to confirm or discard it."),
        Event("run.approval_needed", "Run needs approval",
              "A production run's saved plan waits for a second team lead (or an admin) to approve it."),
        Event("run.failed", "Run failed", "A run ended with an error."),
        Event("run.succeeded", "Run succeeded",
              "An apply, destroy or Accept reality succeeded (by default only on prod; each destination chooses)."),
        Event("drift.detected", "Drift detected",
              "A drift check found resources changed outside Hangar where the previous one found none."),
        Event("drift.resolved", "Drift resolved", "A drift check found everything in sync again after drift."),
        Event("sandbox.expiring", "Sandbox expiring", "A sandbox environment will be destroyed soon."),
        Event("sandbox.destroyed", "Sandbox destroyed", "A sandbox environment was destroyed."),
        Event("sandbox.destroy_failed", "Sandbox failed to destroy", "Destroying a sandbox environment failed."),
        Event("shared_composer.change_finished", "Shared Airflow change finished",
              "A project's onboarding to or offboarding from the shared Airflow has gone as far as it will go."),
    )
}  # fmt: skip

# Sent by *Send test* only; no destination subscribes to it.
TEST_EVENT = "destination.test"
CHOICES = [(event.name, event.label) for event in EVENTS.values()]
DEFAULT_EVENTS = [event.name for event in EVENTS.values() if event.default]
ENVIRONMENTS = ("dev", "test", "prod")
DEFAULT_SUCCESS_ENVIRONMENTS = ["prod"]
