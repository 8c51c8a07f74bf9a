"""Notifications: who may manage destinations, the fan-out of an event to them, and one delivery attempt.

`notify(event, **context)` is the one entry point: the receivers (signals of runs, drift and the shared Airflow)
call it, and so will sandboxes. It builds the event's payload, picks the destinations that want it and queues
one delivery each, after the commit. The Celery task `notifications.deliver` calls `delivery_attempt`; a
retryable failure is retried with exponential backoff up to WEBHOOK_MAX_ATTEMPTS, and a destination whose
deliveries fail WEBHOOK_PAUSE_AFTER times in a row is paused, and its owner told by e-mail."""

import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from deployments.runs import dispatch
from notifications import addresses, crypto, payloads, transport
from notifications.events import EVENTS
from notifications.models import Delivery, DeliveryAttempt, Destination, NotificationPreference
from onboarding.access import is_team_lead, visible_projects
from onboarding.models import Membership, Project
from portal.audit import audit_record

log = logging.getLogger(__name__)

DELIVER = "notifications.deliver"
# Finished deliveries kept per destination (its log); older ones are deleted as new ones finish.
DELIVERY_KEEP = 200


# -- who may do what ------------------------------------------------------------------------------------
def can_manage(user, project: Project | None) -> bool:
    """Team leads manage their project's destinations; admins every project's and the ones for all projects."""
    if project is None:
        return user.is_superuser
    return is_team_lead(user, project.team)


def visible_destinations(user):
    destinations = Destination.objects.select_related("project")
    if user.is_superuser:
        return destinations
    return destinations.filter(project__in=visible_projects(user))


def _require_manage(user, project: Project | None) -> None:
    if not can_manage(user, project):
        if project is None:
            raise PermissionDenied("Only admins manage the destinations for all projects.")
        raise PermissionDenied(f"Only a lead of {project.team} (or an admin) manages {project}'s notifications.")


# -- managing destinations ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Saved:
    destination: Destination
    secret: str  # shown once, right after it was made; "" when unchanged


def _clean(*, project, kind, name, events, url, recipients, success_environments, check_url=True) -> dict:
    errors: dict[str, list[str]] = {}
    if kind not in Destination.Kind.values:
        errors["kind"] = [f"{kind!r} is not a kind; use one of: {', '.join(Destination.Kind.values)}."]
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the destination a name."]
    unknown = [event for event in events if event not in EVENTS]
    if unknown:
        errors["events"] = [f"Unknown events: {', '.join(unknown)}."]
    elif not events:
        errors["events"] = ["Choose at least one event."]
    cleaned: dict = {"name": name[:100], "events": [e for e in EVENTS if e in events]}
    cleaned["success_environments"] = [env for env in ("dev", "test", "prod") if env in success_environments]
    if kind in (Destination.Kind.WEBHOOK, Destination.Kind.CHAT) and check_url:
        try:
            addresses.resolve(url)
            cleaned["url"] = url.strip()
        except ValidationError as error:
            errors["url"] = error.messages
    if kind == Destination.Kind.EMAIL and recipients is not None and project is not None:
        members = set(Membership.objects.filter(team=project.team).values_list("user_id", flat=True))
        strangers = [user for user in recipients if user.pk not in members]
        if strangers:
            errors["recipients"] = [f"Not in {project.team}: {', '.join(user.get_username() for user in strangers)}."]
    if errors:
        raise ValidationError(errors)
    return cleaned


def destination_create(
    *,
    user,
    project: Project | None,
    kind: str,
    name: str,
    events: list[str],
    url: str = "",
    to_team: bool = True,
    recipients=None,
    success_environments=("prod",),
) -> Saved:
    _require_manage(user, project)
    recipients = list(recipients or [])
    cleaned = _clean(project=project, kind=kind, name=name, events=events, url=url, recipients=recipients,
                     success_environments=success_environments)  # fmt: skip
    secret = crypto.new_secret() if kind != Destination.Kind.EMAIL else ""
    with transaction.atomic():
        destination = Destination.objects.create(
            project=project,
            kind=kind,
            name=cleaned["name"],
            events=cleaned["events"],
            success_environments=cleaned["success_environments"],
            to_team=to_team or not recipients,
            url_encrypted=crypto.encrypt(cleaned.get("url", "")),
            url_display=addresses.display(cleaned["url"]) if "url" in cleaned else "",
            secret_encrypted=crypto.encrypt(secret),
            created_by=user,
        )
        if recipients and not destination.to_team:
            destination.recipients.set(recipients)
        audit_record(actor=user, action="notification.destination.create", obj=destination, kind=kind,
                     events=cleaned["events"], project=project.slug if project else None)  # fmt: skip
    return Saved(destination, secret)


def destination_update(
    *, destination: Destination, user, name: str, events: list[str], url: str = "", to_team: bool = True,
    recipients=None, success_environments=("prod",),
) -> Destination:  # fmt: skip
    """Change what a destination wants (and, for a webhook or chat, its address when a new one is given)."""
    _require_manage(user, destination.project)
    recipients = list(recipients or [])
    url = (url or "").strip()
    cleaned = _clean(project=destination.project, kind=destination.kind, name=name, events=events, url=url,
                     recipients=recipients, success_environments=success_environments, check_url=bool(url))  # fmt: skip
    with transaction.atomic():
        destination.name, destination.events = cleaned["name"], cleaned["events"]
        destination.success_environments = cleaned["success_environments"]
        if "url" in cleaned:
            destination.url_encrypted = crypto.encrypt(cleaned["url"])
            destination.url_display = addresses.display(cleaned["url"])
        if destination.kind == Destination.Kind.EMAIL:
            destination.to_team = to_team or not recipients
            destination.recipients.set([] if destination.to_team else recipients)
        destination.save()
        audit_record(actor=user, action="notification.destination.update", obj=destination, events=cleaned["events"])
    return destination


def destination_delete(*, destination: Destination, user) -> None:
    _require_manage(user, destination.project)
    with transaction.atomic():
        audit_record(actor=user, action="notification.destination.delete", obj=destination, kind=destination.kind,
                     project=destination.project.slug if destination.project_id else None)  # fmt: skip
        destination.delete()


def destination_resume(*, destination: Destination, user) -> None:
    """Unpause: events reach it again (nothing missed meanwhile is sent; redeliver from the log)."""
    _require_manage(user, destination.project)
    Destination.objects.filter(pk=destination.pk).update(paused=False, paused_at=None, pause_reason="",
                                                         consecutive_failures=0)  # fmt: skip
    audit_record(actor=user, action="notification.destination.resume", obj=destination)


def destination_rotate_secret(*, destination: Destination, user) -> str:
    _require_manage(user, destination.project)
    if not destination.is_http:
        raise ValidationError("E-mail destinations have no signing secret.")
    secret = crypto.new_secret()
    Destination.objects.filter(pk=destination.pk).update(secret_encrypted=crypto.encrypt(secret))
    audit_record(actor=user, action="notification.destination.rotate_secret", obj=destination)
    return secret


def send_test(*, destination: Destination, user) -> Delivery:
    """*Send test*: a `destination.test` event to this destination only, paused or not."""
    _require_manage(user, destination.project)
    return _queue(destination, payloads.test_event(destination, user), requested_by=user)


def redeliver(*, delivery: Delivery, user) -> Delivery:
    """Send a delivery's payload again, as it was (the same event id), as a new delivery with its own attempts."""
    _require_manage(user, delivery.destination.project)
    return _queue(delivery.destination, delivery.payload, requested_by=user, redelivery_of=delivery)


# -- events ---------------------------------------------------------------------------------------------
def notify(event: str, **context) -> list[Delivery]:
    """Send `event` to every destination that wants it. The context each event needs:

    - run.confirmation_needed, run.approval_needed, run.failed, run.succeeded: `run`;
    - drift.detected, drift.resolved: `check` (the DriftCheck that found it), `previous` (the one before);
    - sandbox.expiring, sandbox.destroyed, sandbox.destroy_failed: `project`, `environment`, `name`, and
      `expires_at`, `error`, `actor`, `url` where they apply;
    - shared_composer.change_finished: `change` (SharedChange), `run` and `outcome`.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    extra: list[Project] = []
    if event.startswith("run."):
        payload = payloads.run_event(event, context["run"])
    elif event.startswith("drift."):
        payload = payloads.drift_event(event, context["check"], context.get("previous"))
    elif event.startswith("sandbox."):
        payload = payloads.sandbox_event(event, **context)
    else:
        payload = payloads.shared_change_event(context["change"], context.get("run"), context["outcome"])
        run = context.get("run")
        if run is not None:  # the platform team follows every change too
            extra.append(run.deployment.environment.project)
    project = _payload_project(payload)
    return fan_out(payload, projects=[p for p in [project, *extra] if p is not None])


def _payload_project(payload: dict) -> Project | None:
    slug = (payload.get("project") or {}).get("slug")
    return Project.objects.filter(slug=slug).first() if slug else None


def wants(destination: Destination, payload: dict) -> bool:
    event = payload["event"]
    if event not in destination.events:
        return False
    if event == "run.succeeded":
        return payload.get("environment") in (destination.success_environments or [])
    return True


def fan_out(payload: dict, *, projects: list[Project]) -> list[Delivery]:
    """Queue one delivery of `payload` to each active destination of these projects, and of all projects."""
    ids = {project.pk for project in projects}
    candidates = Destination.objects.filter(paused=False).filter(Q(project_id__in=ids) | Q(project__isnull=True))
    chosen = [destination for destination in candidates.order_by("id") if wants(destination, payload)]
    with transaction.atomic():
        return [_queue(destination, payload) for destination in chosen]


def _queue(destination: Destination, payload: dict, *, requested_by=None, redelivery_of=None) -> Delivery:
    with transaction.atomic():
        delivery = Delivery.objects.create(
            destination=destination,
            event=payload["event"],
            event_id=payload["id"],
            payload=payload,
            requested_by=requested_by,
            redelivery_of=redelivery_of,
        )
        # robust: a broker that cannot take the task now must not fail what caused the event (it is logged).
        transaction.on_commit(lambda: dispatch.send_task(DELIVER, delivery.pk), robust=True)
    return delivery


# -- delivering -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    retry_in: float | None  # seconds until the next attempt; None when the delivery is over


def backoff(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: WEBHOOK_BACKOFF_SECONDS doubled per attempt, at most WEBHOOK_BACKOFF_MAX."""
    return min(settings.WEBHOOK_BACKOFF_MAX, settings.WEBHOOK_BACKOFF_SECONDS * 2 ** (attempt - 1))


def delivery_attempt(delivery_id: int) -> Outcome:
    """One attempt of a pending delivery (the task's body). Records it; says whether to try again and when."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status != Delivery.Status.PENDING:
            return Outcome(None)  # a duplicate message, or deleted with its destination
        destination = Destination.objects.get(pk=delivery.destination_id)
        if destination.paused and delivery.requested_by_id is None:
            _record(delivery, ok=False, error="not sent: the destination is paused")
            return _end(delivery, destination, ok=False, count=False)
        delivery.attempts += 1
        delivery.save(update_fields=["attempts"])
    number = delivery.attempts
    if destination.kind == Destination.Kind.EMAIL:
        ok, retryable, fields = _send_mail(destination, delivery)
    else:
        ok, retryable, fields = _send_http(destination, delivery)
    _record(delivery, number=number, ok=ok, **fields)
    if ok:
        return _end(delivery, destination, ok=True)
    if retryable and number < settings.WEBHOOK_MAX_ATTEMPTS:
        return Outcome(backoff(number))
    return _end(delivery, destination, ok=False)


def _record(delivery: Delivery, *, number: int | None = None, ok: bool, error: str = "", status_code=None,
            latency_ms=None, response_start: str = "") -> None:  # fmt: skip
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=number if number is not None else delivery.attempts,
        ok=ok,
        status_code=status_code,
        latency_ms=latency_ms,
        response_start=response_start[:500],
        error=error[:500],
    )


def _send_http(destination: Destination, delivery: Delivery) -> tuple[bool, bool, dict]:
    try:
        url = crypto.decrypt(destination.url_encrypted)
        secret = crypto.decrypt(destination.secret_encrypted)
        target = addresses.resolve(url)  # checked again now: the name may resolve elsewhere than when saved
    except ValidationError as error:
        return False, False, {"error": "refused: " + " ".join(error.messages)}
    except ValueError as error:
        return False, False, {"error": str(error)}
    body_data = (
        payloads.chat_message(delivery.payload) if destination.kind == Destination.Kind.CHAT else delivery.payload
    )
    body = json.dumps(body_data, separators=(",", ":"), sort_keys=True).encode()
    headers = {"X-Hangar-Event": delivery.event, "X-Hangar-Delivery": str(delivery.event_id)}
    answer = transport.post(target, body, secret=secret, headers=headers)
    error = answer.error
    if not answer.ok and not error:
        error = f"HTTP {answer.status_code}" + (
            " (redirects are not followed)" if 300 <= answer.status_code < 400 else ""
        )
    fields = {"status_code": answer.status_code, "latency_ms": answer.latency_ms,
              "response_start": answer.response_start, "error": error}  # fmt: skip
    return answer.ok, answer.retryable, fields


def email_recipients(destination: Destination, payload: dict, requested_by=None) -> list[str]:
    """Addresses of the people a mail goes to: the team of the event's project (or the chosen members), less
    those who opted out and those without an address."""
    User = get_user_model()
    project = destination.project or _payload_project(payload)
    if destination.to_team:
        if project is not None:
            users = User.objects.filter(memberships__team=project.team)
        else:  # a test of a destination for all projects: the admin who sent it
            users = User.objects.filter(pk=getattr(requested_by, "pk", None))
    else:
        users = destination.recipients.all()
        if destination.project_id is not None:
            users = users.filter(memberships__team=destination.project.team)
    opted_out = NotificationPreference.objects.filter(email_opt_out=True).values("user_id")
    users = users.filter(is_active=True).exclude(email="").exclude(pk__in=opted_out).distinct()
    return sorted(set(users.values_list("email", flat=True)))


def _send_mail(destination: Destination, delivery: Delivery) -> tuple[bool, bool, dict]:
    payload = delivery.payload
    recipients = email_recipients(destination, payload, delivery.requested_by)
    if not recipients:
        return True, False, {"response_start": "no recipient: nobody with an e-mail address who has not opted out"}
    subject, body = mail_text(payload)
    started = timezone.now()
    try:
        with mail.get_connection(fail_silently=False) as connection:
            messages = [
                mail.EmailMessage(subject=subject, body=body, to=[address], connection=connection)
                for address in recipients
            ]
            connection.send_messages(messages)
    except Exception as error:  # SMTP and socket errors alike: retried
        return False, True, {"error": f"{type(error).__name__}: {error}"[:500]}
    latency = int((timezone.now() - started).total_seconds() * 1000)
    return True, False, {"latency_ms": latency, "response_start": f"sent to {len(recipients)}: {', '.join(recipients)}"}


def mail_text(payload: dict) -> tuple[str, str]:
    label = EVENTS[payload["event"]].label if payload["event"] in EVENTS else "Test"
    where = " ".join(part for part in ((payload.get("project") or {}).get("slug"), payload.get("environment")) if part)
    subject = f"[Hangar] {label}" + (f": {where}" if where else "")
    lines = [payload.get("text") or label, ""]
    if payload.get("url"):
        lines += [payload["url"], ""]
    if payload.get("summary"):
        lines += ["Details:", json.dumps(payload["summary"], indent=2, sort_keys=True), ""]
    lines += ["You receive this because your team chose these notifications in Hangar.",
              f"Stop all notification e-mail: {payloads.absolute('/profile/')}"]  # fmt: skip
    return subject, "\n".join(lines)


def _end(delivery: Delivery, destination: Destination, *, ok: bool, count: bool = True) -> Outcome:
    """The delivery is over: record it, and count the destination's failures in a row (pausing it at
    WEBHOOK_PAUSE_AFTER)."""
    status = Delivery.Status.SUCCEEDED if ok else Delivery.Status.FAILED
    Delivery.objects.filter(pk=delivery.pk).update(status=status, finished_at=timezone.now())
    _prune(destination)
    if not count:
        return Outcome(None)
    if ok:
        Destination.objects.filter(pk=destination.pk).exclude(consecutive_failures=0).update(consecutive_failures=0)
        return Outcome(None)
    with transaction.atomic():
        destination = Destination.objects.select_for_update().get(pk=destination.pk)
        destination.consecutive_failures += 1
        pause = not destination.paused and destination.consecutive_failures >= settings.WEBHOOK_PAUSE_AFTER
        if pause:
            destination.paused, destination.paused_at = True, timezone.now()
            destination.pause_reason = (
                f"paused after {destination.consecutive_failures} failed deliveries in a row "
                f"(WEBHOOK_PAUSE_AFTER); the last: event {delivery.event}"
            )[:300]
        destination.save(update_fields=["consecutive_failures", "paused", "paused_at", "pause_reason"])
        if pause:
            audit_record(actor=None, action="notification.destination.paused", obj=destination,
                         failures=destination.consecutive_failures)  # fmt: skip
            transaction.on_commit(lambda: _tell_owner(destination))
    return Outcome(None)


def _prune(destination: Destination) -> None:
    keep = Delivery.objects.filter(destination=destination).order_by("-id").values_list("id", flat=True)[DELIVERY_KEEP:]
    oldest_kept = next(iter(keep), None)
    if oldest_kept is not None:
        Delivery.objects.filter(destination=destination, id__lte=oldest_kept).exclude(
            status=Delivery.Status.PENDING
        ).delete()


def owners(destination: Destination) -> list[str]:
    """Who is told that a destination was paused: whoever made it, else the team's leads (or the admins)."""
    User = get_user_model()
    creator = destination.created_by
    if creator is not None and creator.email and creator.is_active:
        return [creator.email]
    if destination.project_id is not None:
        users = User.objects.filter(memberships__team=destination.project.team, memberships__role="lead")
    else:
        users = User.objects.filter(is_superuser=True)
    return sorted(set(users.filter(is_active=True).exclude(email="").values_list("email", flat=True)))


def _tell_owner(destination: Destination) -> None:
    to = owners(destination)
    if not to:
        return
    page = payloads.absolute(destination.get_absolute_url())
    try:
        mail.send_mail(
            subject=f"[Hangar] Notifications paused: {destination.name}",
            message=(
                f"Hangar stopped sending to {destination.name} ({destination.url_display or destination.get_kind_display()}): "
                f"{destination.pause_reason}.\n\nThe delivery log says why: {page}\n"
                "Fix the receiver, then press Resume there (and Redeliver what it missed)."
            ),
            from_email=None,
            recipient_list=to,
        )
    except Exception:
        log.exception("could not tell the owner of destination %s that it was paused", destination.pk)
