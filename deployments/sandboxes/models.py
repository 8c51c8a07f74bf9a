"""A sandbox: an Environment (kind sandbox) of a project, with an owner, a version and a lifetime.

The environment carries the sandbox's own name (sbx-<number>) and cloud project id, so its runs,
state, lock, cloud token and live log are those of any environment. This row adds what is a
sandbox's own: who owns it, which version and definition it was made from, when it expires, and
how its destroy is going."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from deployments.artifacts.models import Artifact
from onboarding.models import Environment, Project


class Sandbox(models.Model):
    # Its pk is the sandbox's number (sbx-<pk>): a database sequence, never reused.
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="sandboxes")
    environment = models.OneToOneField(
        Environment, null=True, blank=True, on_delete=models.PROTECT, related_name="sandbox"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    artifact = models.ForeignKey(Artifact, on_delete=models.PROTECT, related_name="+")
    base_environment = models.CharField(max_length=10)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    # The apply that created it, and the latest destroy (by a person, or at expiry).
    create_run = models.ForeignKey(
        "deployments.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    destroy_run = models.ForeignKey(
        "deployments.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    destroy_requested_at = models.DateTimeField(null=True, blank=True)
    destroy_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Destroy runs started so far, and when the sweep tries again after a failed one (backoff).
    destroy_attempts = models.PositiveSmallIntegerField(default=0)
    next_destroy_at = models.DateTimeField(null=True, blank=True)
    # The latest destroy failed and none has succeeded since: "Destroy failed" on the project and Operations.
    destroy_failed = models.BooleanField(default=False)
    destroy_error = models.TextField(blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)
    # When the sweep first saw it within SANDBOX_WARN_BEFORE of expiry (the owner is warned; reset on extend).
    warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["destroyed_at", "expires_at"])]

    def __str__(self) -> str:
        return f"sandbox {self.name} of {self.project_id and self.project.slug}"

    def get_absolute_url(self) -> str:
        return reverse("project_sandboxes", args=[self.project.slug]) + f"#sandbox-{self.pk}"

    @property
    def name(self) -> str:
        return self.environment.name if self.environment_id else f"sbx-{self.pk}"

    @property
    def gcp_project_id(self) -> str:
        return self.environment.gcp_project_id if self.environment_id else ""

    @property
    def is_live(self) -> bool:
        """Anything of it may exist in the cloud: not destroyed yet."""
        return self.destroyed_at is None
