"""Deployments (environment + target: a run queue and a state) and the runs on them, with their logs."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from deployments.artifacts.models import Artifact
from deployments.runs.choices import BADGES, FINAL_STATUSES, Operation, RunStatus, Target
from onboarding.models import Environment


class Deployment(models.Model):
    """One environment + target: its Terraform state, lock and run queue.

    A row in the deployments table."""

    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="deployments")
    target = models.CharField(max_length=20, choices=Target.choices, default=Target.LOCAL)
    # The run that holds the right to run Terraform on this state; None = free.
    active_run = models.OneToOneField(
        "Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    # The latest run that finished (any outcome) and the version last applied successfully.
    last_run = models.ForeignKey("Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    deployed_artifact = models.ForeignKey(
        Artifact, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    # The successful apply that deployed `deployed_artifact` (who, when); None when nothing is deployed.
    deployed_run = models.ForeignKey(
        "Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    # The newest drift check that finished (not skipped): the Health column (deployments/drift/).
    last_drift_check = models.ForeignKey(
        "DriftCheck", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    # Terraform's state lock (the http backend's LOCK/UNLOCK).
    lock_id = models.CharField(max_length=64, blank=True)
    lock_run = models.ForeignKey("Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    lock_info = models.JSONField(default=dict, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["environment", "target"], name="one_deployment_per_target")]
        ordering = ["environment__project_id", "environment__position", "target"]

    def __str__(self) -> str:
        return f"{self.environment.gcp_project_id} / {self.target}"

    @property
    def current_run(self) -> "Run | None":
        """The run that says most about this row now: the one running, else the last one."""
        return self.active_run or self.last_run


class Run(models.Model):
    """One Terraform operation on one deployment with one artifact version."""

    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="runs")
    artifact = models.ForeignKey(Artifact, on_delete=models.PROTECT, related_name="runs")
    operation = models.CharField(max_length=10, choices=Operation.choices, default=Operation.APPLY)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    to_add = models.PositiveIntegerField(null=True, blank=True)
    to_change = models.PositiveIntegerField(null=True, blank=True)
    to_destroy = models.PositiveIntegerField(null=True, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    resources = models.JSONField(default=list, blank=True, help_text="Resources touched: address, action, outcome.")
    worker = models.CharField(max_length=200, blank=True)
    terraform_version = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    # When the run was last handed to the workers while holding its slot, and how often: a queued
    # run whose task message was lost is sent again after RUN_DISPATCH_TIMEOUT (see reap_lost_runs).
    dispatched_at = models.DateTimeField(null=True, blank=True, editable=False)
    dispatch_count = models.PositiveSmallIntegerField(default=0, editable=False)
    # Review before change. An apply or destroy plans first and stops at `planned` when a person must
    # confirm its saved plan: the environment does not apply automatically, the plan destroys or replaces
    # something the requester did not confirm (`confirm_destroy`), or production needs approval.
    needs_confirmation = models.BooleanField(default=False)
    # Decided when the run is requested: the environment's Apply automatically (or Hangar's own override).
    auto_apply = models.BooleanField(default=False)
    confirm_destroy = models.BooleanField(default=False)
    plan_expires_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Production gate: the saved plan must be confirmed by a second lead (not the requester) or an admin.
    approval_required = models.BooleanField(default=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    # Whether its Terraform ran in the sandbox; None until a worker started it (RUN_SANDBOX=off: False).
    isolated = models.BooleanField(null=True, blank=True, editable=False)
    # Salted hash of the run's own state-backend password; cleared when the run ends.
    state_credential = models.CharField(max_length=128, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["deployment", "status", "id"])]

    def __str__(self) -> str:
        return f"Run #{self.pk} {self.operation} {self.artifact.version} on {self.deployment}"

    def get_absolute_url(self) -> str:
        return reverse("run_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def badge(self) -> str:
        return BADGES.get(self.status, "")

    @property
    def awaiting_confirmation(self) -> bool:
        """Planned, and waiting for a person to confirm (or discard) its saved plan: its worker parked it."""
        return self.status == RunStatus.PLANNED and self.plan_expires_at is not None

    @property
    def awaiting_approval(self) -> bool:
        """Waiting for a second lead to confirm a production plan."""
        return self.approval_required and self.awaiting_confirmation


class RunTransition(models.Model):
    """Every status a run entered, when: the timeline and the audit of a run."""

    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="transitions")
    status = models.CharField(max_length=12, choices=RunStatus.choices)
    at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["run_id", "id"]

    def __str__(self) -> str:
        return f"run #{self.run_id} {self.status} at {self.at:%Y-%m-%d %H:%M:%S}"


class LogLine(models.Model):
    """One line of Terraform's -json output, stored in order as it arrives."""

    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="log_lines")
    seq = models.PositiveIntegerField()
    at = models.DateTimeField()
    level = models.CharField(max_length=10, default="info")
    type = models.CharField(max_length=40, blank=True)
    message = models.TextField()
    raw = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="one_log_line_per_seq")]
        ordering = ["run_id", "seq"]

    def __str__(self) -> str:
        return f"run #{self.run_id} line {self.seq}"
