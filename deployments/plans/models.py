"""A run's saved plan: the binary plan file Terraform applies, and what a person reviews of it."""

from django.db import models

from deployments.runs.models import Run
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
