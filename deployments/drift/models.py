"""Drift checks: one read-only look at a deployment's resources, and what it found."""

from django.conf import settings
from django.db import models

from deployments.artifacts.models import Artifact
from deployments.runs.models import Deployment


class DriftCheck(models.Model):
    """`terraform plan -refresh-only` of the deployed version, and, when needed, a normal plan of it.

    `resources` are the drifted resources in the API's shape: address, action, DSL kind and name,
    and attribute changes (path, before, after). `would_change` is what a deploy of the same version
    would do ({add, change, destroy}); None when no normal plan was needed (no drift, and the
    deployed version was the last thing applied). `log` is Terraform's -json output of the check."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Checking"
        FINISHED = "finished", "Finished"
        SKIPPED = "skipped", "Skipped"

    class Outcome(models.TextChoices):
        IN_SYNC = "in_sync", "In sync"
        DRIFTED = "drifted", "Drifted"
        CHECK_FAILED = "check_failed", "Check failed"

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="drift_checks")
    artifact = models.ForeignKey(Artifact, on_delete=models.PROTECT, related_name="+")
    # None: started by the schedule.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    outcome = models.CharField(max_length=14, choices=Outcome.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resources = models.JSONField(default=list, blank=True)
    drifted_count = models.PositiveIntegerField(default=0)
    would_change = models.JSONField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True, help_text="Why it was skipped.")
    error = models.TextField(blank=True)
    log = models.TextField(blank=True)
    # Digest of its read-only state-backend password while it runs; cleared when it ends.
    credential = models.CharField(max_length=128, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["deployment", "status", "id"])]

    def __str__(self) -> str:
        return f"drift check #{self.pk} of {self.deployment}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.FINISHED, self.Status.SKIPPED)

    @property
    def drifted_addresses(self) -> list[str]:
        return [resource["address"] for resource in self.resources]
