"""Destinations (where events go), deliveries (one event to one destination) and their attempts, and each
user's e-mail preference."""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse


class Destination(models.Model):
    """Where a project's events go (`project` None: every project's, managed by admins)."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Webhook"
        CHAT = "chat", "Chat (Slack-compatible)"

    project = models.ForeignKey(
        "onboarding.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="notification_destinations"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The events it wants (notifications.events.EVENTS names).
    events = models.JSONField(default=list)
    # run.succeeded only for these environments (by default production only).
    success_environments = models.JSONField(default=list, blank=True)
    # E-mail: the whole team of the event's project, or the chosen users.
    to_team = models.BooleanField(default=True)
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    # Webhook and chat: the address (encrypted: chat addresses carry their own secret), what pages show of it,
    # and the signing secret (encrypted; shown once).
    url_encrypted = models.TextField(blank=True, editable=False)
    url_display = models.CharField(max_length=300, blank=True, editable=False)
    secret_encrypted = models.TextField(blank=True, editable=False)
    paused = models.BooleanField(default=False)
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=300, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "name", "id"]

    def __str__(self) -> str:
        where = self.project.slug if self.project_id else "all projects"
        return f"{self.name} ({self.get_kind_display()}, {where})"

    def get_absolute_url(self) -> str:
        return reverse("notification_destination", args=[self.pk])

    @property
    def is_http(self) -> bool:
        return self.kind in (self.Kind.WEBHOOK, self.Kind.CHAT)


class Delivery(models.Model):
    """One event for one destination: its payload, kept as sent, and the outcome of its attempts."""

    class Status(models.TextChoices):
        PENDING = "pending", "Sending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=60)
    # The event's id (also in the payload): the same for every destination, and for a redelivery.
    event_id = models.UUIDField(default=uuid.uuid4)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    redelivery_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"delivery #{self.pk} {self.event} to {self.destination.name}"

    @property
    def badge(self) -> str:
        return {self.Status.SUCCEEDED: "ok", self.Status.FAILED: "bad"}.get(self.status, "warn")


class DeliveryAttempt(models.Model):
    """One try to deliver: the answer's status code, how long it took and how it began, or the error."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_start = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)
    ok = models.BooleanField(default=False)

    class Meta:
        ordering = ["delivery_id", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery #{self.delivery_id}"


class NotificationPreference(models.Model):
    """A user's choice about notification e-mail (opt out of all of them)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_opt_out = models.BooleanField(
        "No notification e-mail", default=False, help_text="Send me no notification e-mail from any project."
    )

    def __str__(self) -> str:
        return f"notification preference of {self.user}"
