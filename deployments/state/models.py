"""Terraform state versions kept by Hangar's state backend."""

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
