from django.conf import settings
from django.db import models
from django.urls import reverse

from onboarding.naming import ENVIRONMENT_LABELS, ENVIRONMENTS


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="teams")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("team_detail", args=[self.slug])


class Role(models.TextChoices):
    LEAD = "lead", "Team lead"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer (read-only)"


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_user_and_team")]
        ordering = ["team__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.get_role_display()})"


class Project(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="projects")
    service_control_id = models.PositiveIntegerField("Service Control ID")
    name = models.CharField(max_length=30)
    slug = models.CharField(max_length=40, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    prod_requires_approval = models.BooleanField(
        "Production deploys need approval",
        default=False,
        help_text="An apply or destroy on prod waits until a team lead other than the requester approves it.",
    )

    class Meta:
        constraints = [
            # Two simultaneous registrations cannot both win: the database decides.
            models.UniqueConstraint(fields=["service_control_id", "name"], name="one_project_per_scid_and_name"),
        ]
        ordering = ["service_control_id", "name"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("project_detail", args=[self.slug])


class EnvironmentKind(models.TextChoices):
    FIXED = "fixed", "Fixed (dev, test, prod)"
    SANDBOX = "sandbox", "Sandbox"


class FixedEnvironments(models.Manager):
    """The default manager: a project's dev, test and prod. Sandboxes (deployments/sandboxes/) are
    environments too, so that runs, state, locks and cloud tokens work for them unchanged, but every
    page and job that lists "the environments" means the fixed ones; `Environment.all_objects` has both."""

    def get_queryset(self):
        return super().get_queryset().filter(kind=EnvironmentKind.FIXED)


class Environment(models.Model):
    NAMES = [(name, ENVIRONMENT_LABELS[name]) for name in ENVIRONMENTS]

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="environments")
    # dev, test or prod; a sandbox's is sbx-<number> (deployments.sandboxes), which `choices` does not list.
    name = models.CharField(max_length=20, choices=NAMES)
    kind = models.CharField(max_length=10, choices=EnvironmentKind.choices, default=EnvironmentKind.FIXED)
    # A sandbox deploys the artifact's infrastructure/<base_name>/ definition into its own cloud project.
    base_name = models.CharField(max_length=10, blank=True)
    gcp_project_id = models.CharField("GCP project id", max_length=30, unique=True)
    position = models.PositiveSmallIntegerField(default=0, editable=False)
    # Whether a confirmed-by-nobody plan is applied at once. Even then, a plan that destroys or replaces
    # anything waits for a person. New projects: on for dev and test, off for prod.
    auto_apply = models.BooleanField(
        "Apply automatically",
        default=True,
        help_text="Apply plans that destroy and replace nothing without waiting for a confirmation.",
    )

    all_objects = models.Manager()
    objects = FixedEnvironments()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="one_environment_per_name")]
        ordering = ["project_id", "position"]
        # Related managers (project.environments) list dev, test and prod only; see FixedEnvironments.
        default_manager_name = "objects"
        base_manager_name = "all_objects"

    def __str__(self) -> str:
        return self.gcp_project_id

    @property
    def label(self) -> str:
        if self.is_sandbox:
            return f"Sandbox {self.name} (from {self.base_name})"
        return ENVIRONMENT_LABELS[self.name]

    @property
    def is_sandbox(self) -> bool:
        return self.kind == EnvironmentKind.SANDBOX

    @property
    def definition(self) -> str:
        """The artifact folder this environment deploys: infrastructure/<definition>/."""
        return self.base_name if self.is_sandbox else self.name


# The shared Airflow's models live in its room; imported here so Django registers them.
from onboarding.shared_composer.models import SharedChange, SharedDagDeploy, SharedMembership  # noqa: E402

__all__ = [
    "Environment",
    "EnvironmentKind",
    "Membership",
    "Project",
    "Role",
    "SharedChange",
    "SharedDagDeploy",
    "SharedMembership",
    "Team",
]
