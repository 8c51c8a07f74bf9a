"""A run's saved plan: the binary plan file Terraform applies, and what a person reviews of it."""

from django.db import models

from deployments.artifacts.models import Artifact
from deployments.runs.models import Deployment, Run
from deployments.state.models import StateVersion


class SavedPlan(models.Model):
    """`terraform plan -out` of one run, kept so that exactly this plan is applied once confirmed.

    `data` is the binary plan file and `sha256` its digest, checked again before the apply;
    `plan_json` is `terraform show -json` of it, read into the readable plan; `row_counts` are the
    rows the local cloud reported for tables the plan deletes, at plan time. `state_version` is the
    state the plan was made against (None: no state yet): once another version is written, the
    plan is stale and cannot be confirmed."""

    run = models.OneToOneField(Run, on_delete=models.PROTECT, related_name="saved_plan")
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    plan_json = models.JSONField(default=dict, blank=True)
    row_counts = models.JSONField(default=dict, blank=True)
    state_version = models.ForeignKey(StateVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    has_changes = models.BooleanField(default=True)
    destroys = models.BooleanField(default=False, help_text="Deletes or replaces at least one resource.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"saved plan of run #{self.run_id}"


class SpeculativePlan(models.Model):
    """What an uploaded version would change in one environment that runs something: `terraform plan
    -lock=false` with read-only credentials, never applied, holding no slot (docs/runs.md)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Planning"
        SUCCEEDED = "succeeded", "Planned"
        FAILED = "failed", "Failed"

    artifact = models.ForeignKey(Artifact, on_delete=models.PROTECT, related_name="speculative_plans")
    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="speculative_plans")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    plan_json = models.JSONField(default=dict, blank=True)
    row_counts = models.JSONField(default=dict, blank=True)
    to_add = models.PositiveIntegerField(null=True, blank=True)
    to_change = models.PositiveIntegerField(null=True, blank=True)
    to_destroy = models.PositiveIntegerField(null=True, blank=True)
    destroys = models.BooleanField(default=False, help_text="Deletes or replaces at least one resource.")
    error = models.TextField(blank=True)
    # Digest of its read-only state-backend password while it plans; cleared when it ends.
    credential = models.CharField(max_length=128, blank=True, editable=False)

    class Meta:
        ordering = ["deployment__environment__position", "deployment__target", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["artifact", "deployment"], name="one_speculative_plan_per_version")
        ]

    def __str__(self) -> str:
        return f"speculative plan of {self.artifact.version} on {self.deployment}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
