"""An API token, stored as knox stores it: the SHA-512 digest of the key and its first characters
(to find it), never the key itself. Expired and revoked tokens are kept, so that using one is
answered with why it no longer works, and so that runs recorded under a CI token keep their name."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from knox.models import AbstractAuthToken

# Lifetimes offered on the pages (days); the command accepts any whole number up to the maximum.
EXPIRY_CHOICES = (7, 30, 90, 180, 365)
DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 365


class Kind(models.TextChoices):
    PERSONAL = "personal", "Personal"
    PROJECT = "project", "Project CI"


class ProjectRole(models.TextChoices):
    MEMBER = "member", "Member (may upload and deploy)"
    VIEWER = "viewer", "Viewer (read-only)"


class ApiToken(AbstractAuthToken):
    """`user` is the person (personal token) or the token's own service account (project CI token)."""

    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PERSONAL)
    project = models.ForeignKey(
        "onboarding.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="ci_tokens"
    )
    role = models.CharField(max_length=16, choices=ProjectRole.choices, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.CheckConstraint(
                name="project_token_has_project_and_role",
                condition=(
                    models.Q(kind="personal", project__isnull=True, role="")
                    | models.Q(kind="project", project__isnull=False, role__in=["member", "viewer"])
                ),
            )
        ]

    def __str__(self) -> str:
        if self.kind == Kind.PROJECT:
            return f"CI token {self.name} of {self.project.slug if self.project_id else '?'}"
        return f"token {self.name} of {self.user.get_username() if self.user_id else '?'}"

    @property
    def is_expired(self) -> bool:
        return self.expiry is not None and self.expiry <= timezone.now()

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        return "expired" if self.is_expired else "active"
