"""The artifact: an immutable, versioned zip of a project's infrastructure definition."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from onboarding.models import Project


def artifact_upload_to(artifact: "Artifact", filename: str) -> str:
    return f"artifacts/{artifact.project.slug}/{artifact.project.slug}-{artifact.version}.zip"


class Artifact(models.Model):
    """An immutable, versioned zip of a project's infrastructure definition."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="artifacts")
    version = models.CharField(max_length=64)
    # For ordering: semantic versions sort by their numeric parts, not as text.
    version_key = models.CharField(max_length=64, editable=False, db_index=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    file = models.FileField(upload_to=artifact_upload_to, max_length=255)
    manifest = models.JSONField(default=dict, help_text="metadata.yaml as uploaded: files, checksums, versions.")
    # inspection.checks_seal of the upload: lets a worker skip re-parsing exactly these bytes under
    # the same rules. Empty (a row made any other way) means the worker checks everything again.
    checks_seal = models.CharField(max_length=64, blank=True, default="", editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "version"], name="one_artifact_per_version")]
        ordering = ["project_id", "-version_key"]

    def __str__(self) -> str:
        return f"{self.project.slug} {self.version}"

    def get_absolute_url(self) -> str:
        return reverse("artifact_detail", args=[self.project.slug, self.version])
