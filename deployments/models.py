"""Django's model registry for the app: each room keeps its own models.

Importing them here lets Django find them; code imports them from their room."""

from deployments.artifacts.models import Artifact, artifact_upload_to
from deployments.drift.models import DriftCheck
from deployments.drills.models import RecoveryDrill, RecoveryDrillEnvironment
from deployments.plans.models import SavedPlan, SpeculativePlan
from deployments.runs.models import Deployment, LogLine, Run, RunTransition
from deployments.sandboxes.models import Sandbox
from deployments.state.models import StateVersion

__all__ = [
    "Artifact",
    "Deployment",
    "DriftCheck",
    "LogLine",
    "RecoveryDrill",
    "RecoveryDrillEnvironment",
    "Run",
    "RunTransition",
    "Sandbox",
    "SavedPlan",
    "SpeculativePlan",
    "StateVersion",
    "artifact_upload_to",
]
