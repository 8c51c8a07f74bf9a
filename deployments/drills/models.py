"""A recovery drill and its report per environment."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from deployments.artifacts.models import Artifact
from deployments.runs.models import Deployment
from onboarding.models import Project


class RecoveryDrill(models.Model):
    """One drill: who started it, over which project (None: every project), and how it went."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Empty: all projects."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Where its throw-away cloud lived while it ran (removed afterwards), and why a drill as a whole failed.
    cloud_root = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"recovery drill #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("recovery_drill", args=[self.pk])

    @property
    def scope(self) -> str:
        return self.project.slug if self.project_id else "all projects"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.FINISHED, self.Status.FAILED)


class RecoveryDrillEnvironment(models.Model):
    """One environment of a drill: its deployed version recreated (or not), how long it took, and parity."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RECREATED = "recreated", "Recreated"
        FAILED = "failed", "Failed"

    drill = models.ForeignKey(RecoveryDrill, on_delete=models.CASCADE, related_name="environments")
    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="+")
    artifact = models.ForeignKey(Artifact, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order of recreation in the drill.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    seconds = models.FloatField(null=True, blank=True)
    parity = models.BooleanField(null=True, blank=True, help_text="Empty: not compared (not recreated).")
    differences = models.JSONField(default=list, blank=True)
    compared_projects = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["drill_id", "position"]
        constraints = [models.UniqueConstraint(fields=["drill", "deployment"], name="one_drill_row_per_deployment")]

    def __str__(self) -> str:
        return f"{self.deployment} in recovery drill #{self.drill_id}"
