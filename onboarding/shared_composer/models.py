"""The shared Airflow's records: memberships of projects, the changes that apply them, and DAG deploys."""

from django.conf import settings
from django.db import models
from django.urls import reverse


class SharedMembership(models.Model):
    """A project's membership of the Managed Shared Composer; a new row per joining, so history stays."""

    class State(models.TextChoices):
        JOINING = "joining", "Joining"
        ACTIVE = "active", "Member"
        LEAVING = "leaving", "Leaving"
        LEFT = "left", "Left"

    project = models.ForeignKey("onboarding.Project", on_delete=models.PROTECT, related_name="shared_memberships")
    state = models.CharField(max_length=10, choices=State.choices, default=State.JOINING, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    joined_at = models.DateTimeField(null=True, blank=True, help_text="When the grants were applied in dev.")
    left_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    left_at = models.DateTimeField(null=True, blank=True, help_text="When the grants were removed in dev.")
    # Stages in which the compute service account did not exist, so the shared definition creates (and owns) it.
    created_accounts = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            # At most one current membership per project: the database refuses a second onboarding.
            models.UniqueConstraint(
                fields=["project"], condition=~models.Q(state="left"), name="one_current_shared_membership"
            ),
        ]
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.project} in the shared composer ({self.get_state_display()})"

    @property
    def is_current(self) -> bool:
        return self.state != self.State.LEFT


class SharedChange(models.Model):
    """One change of the shared environment's membership: the platform artifact built for it and its runs."""

    class Kind(models.TextChoices):
        ONBOARD = "onboard", "Onboarding"
        OFFBOARD = "offboard", "Offboarding"

    membership = models.ForeignKey(SharedMembership, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    artifact = models.ForeignKey(
        "deployments.Artifact", null=True, blank=True, on_delete=models.PROTECT, related_name="shared_changes"
    )
    version = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The next stage waiting for an approval (promotion policy "approval"); "" when none is.
    awaiting_stage = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.membership.project} ({self.version or 'not built'})"

    def get_absolute_url(self) -> str:
        return reverse("shared_change", args=[self.pk])


class SharedDagDeploy(models.Model):
    """DAG files a member deployed to its folder in one stage: what the adoption figures count."""

    membership = models.ForeignKey(SharedMembership, on_delete=models.PROTECT, related_name="dag_deploys")
    stage = models.CharField(max_length=10)
    file_count = models.PositiveIntegerField()
    total_bytes = models.PositiveBigIntegerField()
    files = models.JSONField(default=list)
    deployed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    deployed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-deployed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_count} DAGs of {self.membership.project} in {self.stage}"
