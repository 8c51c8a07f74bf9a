"""Terraform state versions kept by Hangar's state backend."""

from django.conf import settings
from django.db import models

from deployments.runs.models import Deployment, Run


class StateVersion(models.Model):
    """Every Terraform state ever written for a deployment; never overwritten."""

    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="state_versions")
    serial = models.PositiveIntegerField()
    lineage = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    data = models.BinaryField()
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="state_versions")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deployment", "lineage", "serial"], name="one_state_per_serial"),
        ]
        ordering = ["deployment_id", "-id"]

    def __str__(self) -> str:
        return f"state serial {self.serial} of {self.deployment_id}"


class ErroredState(models.Model):
    """A state Terraform could not save to Hangar (its `errored.tfstate`), kept with the run that made it.

    Terraform writes that file into its working directory when a state write fails; it holds the only
    record of resources the apply created. An admin downloads it, or pushes it back as the next state
    version (through the same rules as Terraform's own writes, audited)."""

    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="errored_states")
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="errored_states")
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    pushed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pushed_version = models.ForeignKey(StateVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["deployment_id", "-id"]

    def __str__(self) -> str:
        return f"errored state #{self.pk} of run #{self.run_id}"
