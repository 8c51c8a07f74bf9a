"""Creating, extending and destroying sandboxes, and beat's sweep (expiry, retries, warnings).

A sandbox is an Environment of kind sandbox (name sbx-<number>, its own cloud project id), so its
runs go through the run queue like any environment's: run_queue, the slot, the executor (which
deploys the base environment's definition with local.project_id pointed at the sandbox's project),
the state backend, the scoped cloud token, the live log. A sandbox applies automatically, and its
destroys are started with `confirm_destroy`: pressing Destroy (or its expiry) is the confirmation."""

import logging
import math
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from deployments.artifacts.models import Artifact
from deployments.runs import services as runs
from deployments.runs.choices import Operation, RunStatus, Target
from deployments.runs.models import Run
from deployments.sandboxes.models import Sandbox
from deployments.sandboxes.signals import sandbox_event
from localcloud import client
from localcloud.errors import LocalCloudError
from onboarding.access import can_deploy, is_team_lead
from onboarding.models import Environment, EnvironmentKind, Project, Team
from onboarding.naming import ENVIRONMENTS, sandbox_gcp_project_id, sandbox_name
from portal.audit import audit_record

log = logging.getLogger(__name__)
# Sandbox environments come after dev, test and prod wherever environments are ordered.
SANDBOX_POSITION = 100


def hours_text(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours:g} h" if hours < 48 else f"{hours / 24:g} days"


def _ttl_seconds(ttl_hours, *, field: str = "ttl_hours") -> int:
    """`ttl_hours` as given (a number of hours, decimals allowed; None: SANDBOX_DEFAULT_TTL) in seconds."""
    if ttl_hours is None or ttl_hours == "":
        return int(settings.SANDBOX_DEFAULT_TTL)
    try:
        hours = float(ttl_hours)
    except (TypeError, ValueError):
        raise ValidationError({field: f"{str(ttl_hours)[:40]!r} is not a number of hours."}) from None
    if not math.isfinite(hours) or hours <= 0:
        raise ValidationError({field: f"{field} is a positive number of hours."})
    if hours * 3600 > settings.SANDBOX_MAX_TTL:
        raise ValidationError(
            {
                field: f"A sandbox lives at most {hours_text(settings.SANDBOX_MAX_TTL)} "
                f"({settings.SANDBOX_MAX_TTL / 3600:g} hours, SANDBOX_MAX_TTL); {hours:g} hours is longer."
            }
        )
    return max(round(hours * 3600), 1)


def live_sandboxes(team: Team):
    """The team's sandboxes of which something may exist: not destroyed yet."""
    return Sandbox.objects.filter(project__team=team, destroyed_at__isnull=True).select_related(
        "project", "environment", "owner"
    )


def _cap_refusal(team: Team) -> str | None:
    live = list(live_sandboxes(team).order_by("id"))
    limit = settings.SANDBOX_MAX_PER_TEAM
    if len(live) < limit:
        return None
    listed = "; ".join(
        f"{sandbox.name} of {sandbox.project.slug} (owner {sandbox.owner.get_username() if sandbox.owner else 'unknown'}, "
        f"expires {timezone.localtime(sandbox.expires_at):%Y-%m-%d %H:%M %Z})"
        for sandbox in live
    )
    return (
        f"{team} already has {len(live)} live sandboxes, the most a team may have (SANDBOX_MAX_PER_TEAM = {limit}): "
        f"{listed}. Destroy one of them, or wait until one expires and is destroyed."
    )


def sandbox_create(*, project: Project, version: str, user, base_environment: str = "dev", ttl_hours=None) -> Sandbox:
    """A new sandbox of `project` from `version`'s `base_environment` definition, and its apply run."""
    if not can_deploy(user, project):
        raise PermissionDenied(f"Only leads and members of {project.team} can create sandboxes of {project}.")
    base_environment = base_environment or "dev"
    if base_environment not in ENVIRONMENTS or not project.environments.filter(name=base_environment).exists():
        raise ValidationError(
            {
                "base_environment": f"{str(base_environment)[:20]!r} is not an environment; use one of: {', '.join(ENVIRONMENTS)}."
            }
        )
    ttl = _ttl_seconds(ttl_hours)
    artifact = Artifact.objects.filter(project=project, version=version).first()
    if artifact is None:
        raise ValidationError({"version": f"{project} has no artifact version {str(version)[:60]!r}; upload it first."})
    defined = artifact.manifest.get("environments") or []
    if defined and base_environment not in defined:
        raise ValidationError(
            {
                "base_environment": f"Version {version} defines no {base_environment!r} environment (it has: {', '.join(defined)})."
            }
        )
    with transaction.atomic():
        # One creation at a time per team, so two cannot both take the last place.
        Team.objects.select_for_update().filter(pk=project.team_id).first()
        refusal = _cap_refusal(project.team)
        if refusal:
            raise ValidationError(refusal, code="sandbox_limit")
        now = timezone.now()
        sandbox = Sandbox.objects.create(
            project=project,
            owner=user,
            artifact=artifact,
            base_environment=base_environment,
            expires_at=now + timedelta(seconds=ttl),
        )
        # The number is the row's id: a database sequence, never handed out twice, so no cloud project id
        # of an earlier sandbox (destroyed or not) is used again. Environment.gcp_project_id is unique too.
        sandbox.environment = Environment.all_objects.create(
            project=project,
            name=sandbox_name(sandbox.pk),
            kind=EnvironmentKind.SANDBOX,
            base_name=base_environment,
            gcp_project_id=sandbox_gcp_project_id(project.service_control_id, project.name, sandbox.pk),
            position=SANDBOX_POSITION,
            auto_apply=True,
        )
        sandbox.create_run = runs.run_queue(
            environment=sandbox.environment,
            target=Target.LOCAL,
            version=artifact.version,
            operation=Operation.APPLY,
            user=user,
            note=f"sandbox {sandbox.environment.name} created by {user.get_username()} from {base_environment}",
        )
        sandbox.save(update_fields=["environment", "create_run"])
        audit_record(
            actor=user,
            action="sandbox.create",
            obj=sandbox,
            version=artifact.version,
            base_environment=base_environment,
            gcp_project_id=sandbox.environment.gcp_project_id,
            expires_at=sandbox.expires_at.isoformat(),
        )
    return sandbox


def may_manage(user, sandbox: Sandbox) -> bool:
    """Its owner (while they may deploy the project) and the team's leads (admins too) extend or destroy it."""
    if user.is_superuser or is_team_lead(user, sandbox.project.team):
        return True
    return sandbox.owner_id == user.pk and can_deploy(user, sandbox.project)


def _check_manage(user, sandbox: Sandbox) -> None:
    if not may_manage(user, sandbox):
        raise PermissionDenied(
            f"Only the owner of {sandbox.name} and the leads of {sandbox.project.team} can change it."
        )


def sandbox_extend(*, sandbox: Sandbox, hours, user) -> Sandbox:
    """Push the expiry `hours` later (from now when it is overdue), to at most SANDBOX_MAX_TTL from now."""
    _check_manage(user, sandbox)
    if hours is None or hours == "":
        raise ValidationError({"hours": "Give the number of hours to add."})
    seconds = _ttl_seconds(hours, field="hours")
    with transaction.atomic():
        sandbox = Sandbox.objects.select_for_update().get(pk=sandbox.pk)
        if sandbox.destroy_requested_at is not None or sandbox.destroyed_at is not None:
            raise ValidationError(f"{sandbox.name} is being destroyed or was destroyed; it cannot be extended.")
        now = timezone.now()
        expires_at = max(sandbox.expires_at, now) + timedelta(seconds=seconds)
        if (expires_at - now).total_seconds() > settings.SANDBOX_MAX_TTL:
            most = max(0.0, settings.SANDBOX_MAX_TTL - (sandbox.expires_at - now).total_seconds()) / 3600
            raise ValidationError(
                {
                    "hours": f"A sandbox may be kept at most {hours_text(settings.SANDBOX_MAX_TTL)} ahead "
                    f"(SANDBOX_MAX_TTL); {sandbox.name} can be extended by at most {math.floor(most * 10) / 10:g} hours now."
                }
            )
        sandbox.expires_at, sandbox.warned_at = expires_at, None
        sandbox.save(update_fields=["expires_at", "warned_at"])
        audit_record(
            actor=user, action="sandbox.extend", obj=sandbox, hours=seconds / 3600, expires_at=expires_at.isoformat()
        )
    return sandbox


def sandbox_destroy(*, sandbox: Sandbox, user=None, note: str = "") -> Run:
    """Start a destroy run (or return the one under way). `user` None: Hangar itself (expiry, a retry)."""
    if user is not None:
        _check_manage(user, sandbox)
    with transaction.atomic():
        sandbox = (
            Sandbox.objects.select_for_update(of=("self",)).select_related("environment", "artifact").get(pk=sandbox.pk)
        )
        if sandbox.destroyed_at is not None:
            raise ValidationError(f"{sandbox.name} was already destroyed.")
        current = sandbox.destroy_run
        if current is not None and not current.is_finished:
            return current
        now = timezone.now()
        who = user.get_username() if user is not None else "Hangar"
        run = runs.run_queue(
            environment=sandbox.environment,
            target=Target.LOCAL,
            version=sandbox.artifact.version,
            operation=Operation.DESTROY,
            user=user,
            confirm_destroy=True,
            apply_automatically=True,
            note=note or f"sandbox {sandbox.name}: destroy requested by {who}",
        )
        sandbox.destroy_run = run
        sandbox.destroy_attempts += 1
        sandbox.next_destroy_at = None
        if sandbox.destroy_requested_at is None:
            sandbox.destroy_requested_at, sandbox.destroy_requested_by = now, user
        sandbox.save(
            update_fields=[
                "destroy_run", "destroy_attempts", "next_destroy_at", "destroy_requested_at", "destroy_requested_by",
            ]
        )  # fmt: skip
        audit_record(actor=user, action="sandbox.destroy", obj=sandbox, run=run.pk, attempt=sandbox.destroy_attempts)
    return run


def retry_delay(attempts: int) -> int:
    """Seconds before the next destroy after `attempts` failed ones: SANDBOX_DESTROY_RETRY, the last repeating."""
    delays = settings.SANDBOX_DESTROY_RETRY or [60]
    return int(delays[min(max(attempts, 1), len(delays)) - 1])


def cloud_leftovers(sandbox: Sandbox) -> list[str]:
    """What the local cloud still holds in the sandbox's project (read with the operator's token)."""
    cloud = client.operator_client(settings.LOCALCLOUD_URL, settings.LOCALCLOUD_OPERATOR_TOKEN_FILE)
    resources = cloud.list_resources(sandbox.gcp_project_id)
    return [f"{resource.get('type')} {resource.get('name')}" for resource in resources]


def sandbox_destroy_finished(*, run: Run) -> None:
    """A destroy run of a sandbox ended: destroyed when it succeeded and the cloud project is empty, else
    Destroy failed, and the sweep tries again after SANDBOX_DESTROY_RETRY."""
    sandbox = Sandbox.objects.filter(destroy_run=run, destroyed_at__isnull=True).select_related("environment").first()
    if sandbox is None:
        return
    run.refresh_from_db()
    error = ""
    if run.status == RunStatus.SUCCEEDED:
        try:
            left = cloud_leftovers(sandbox)
        except LocalCloudError as failure:
            left, error = (
                [],
                f"The destroy succeeded, but the local cloud could not be asked what is left: {failure.message}",
            )
        if left:
            error = (
                f"The destroy run succeeded, but {sandbox.gcp_project_id} still holds what Terraform did not manage: "
                f"{', '.join(left[:20])}{' …' if len(left) > 20 else ''}. Remove it, then destroy again."
            )
    else:
        first = (run.error or "").strip()
        error = f"Destroy run #{run.pk} {run.status}" + (f": {first}" if first else ".")
    now = timezone.now()
    with transaction.atomic():
        sandbox = Sandbox.objects.select_for_update().get(pk=sandbox.pk)
        if sandbox.destroy_run_id != run.pk or sandbox.destroyed_at is not None or sandbox.next_destroy_at is not None:
            return  # another run since, or this outcome was recorded already (the receiver and the sweep both try)
        if not error:
            sandbox.destroyed_at, sandbox.destroy_failed, sandbox.destroy_error = now, False, ""
            sandbox.next_destroy_at = None
            audit_record(actor=None, action="sandbox.destroyed", obj=sandbox, run=run.pk)
            _announce("sandbox.destroyed", sandbox)
        else:
            sandbox.destroy_failed, sandbox.destroy_error = True, error[:4000]
            sandbox.next_destroy_at = now + timedelta(seconds=retry_delay(sandbox.destroy_attempts))
            audit_record(
                actor=None, action="sandbox.destroy_failed", obj=sandbox, run=run.pk, attempt=sandbox.destroy_attempts
            )
            _announce("sandbox.destroy_failed", sandbox, error=error)
        sandbox.save(update_fields=["destroyed_at", "destroy_failed", "destroy_error", "next_destroy_at"])


def sandbox_sweep(now=None) -> dict:
    """Celery beat's part, every SANDBOX_SWEEP_INTERVAL: destroy expired sandboxes, retry failed destroys whose
    backoff is over, settle destroys whose end was missed, and mark those close to expiry as warned."""
    now = now or timezone.now()
    done: dict[str, list[int]] = {"expired": [], "retried": [], "settled": [], "warned": []}
    live = Sandbox.objects.filter(destroyed_at__isnull=True, environment__isnull=False)
    for sandbox in live.filter(destroy_run__isnull=False).exclude(destroy_run__status__in=_UNFINISHED):
        if sandbox.next_destroy_at is None:
            sandbox_destroy_finished(run=sandbox.destroy_run)  # its run ended but the outcome was not recorded
            done["settled"].append(sandbox.pk)
    for sandbox in live.filter(destroy_requested_at__isnull=True, expires_at__lte=now):
        try:
            sandbox_destroy(
                sandbox=sandbox,
                note=f"sandbox {sandbox.name} expired at {timezone.localtime(sandbox.expires_at):%Y-%m-%d %H:%M %Z}: "
                "destroyed by Hangar",
            )
            done["expired"].append(sandbox.pk)
        except ValidationError:
            log.exception("sandbox %s: could not start its destroy at expiry", sandbox.pk)
    retry = live.filter(destroy_failed=True, next_destroy_at__lte=now).exclude(destroy_run__status__in=_UNFINISHED)
    for sandbox in retry:
        try:
            sandbox_destroy(
                sandbox=sandbox,
                note=f"sandbox {sandbox.name}: destroy attempt {sandbox.destroy_attempts + 1}, after a failed one",
            )
            done["retried"].append(sandbox.pk)
        except ValidationError:
            log.exception("sandbox %s: could not retry its destroy", sandbox.pk)
    warn_from = now + timedelta(seconds=settings.SANDBOX_WARN_BEFORE)
    for sandbox in live.filter(destroy_requested_at__isnull=True, warned_at__isnull=True, expires_at__lte=warn_from):
        # Shown in the UI from now on, and sent to the project's notification destinations once.
        if not Sandbox.objects.filter(pk=sandbox.pk, warned_at__isnull=True).update(warned_at=now):
            continue
        audit_record(
            actor=None, action="sandbox.expiry_warning", obj=sandbox, expires_at=sandbox.expires_at.isoformat()
        )
        _announce("sandbox.expiring", sandbox)
        done["warned"].append(sandbox.pk)
    return done


def _announce(event: str, sandbox: Sandbox, error: str = "") -> None:
    transaction.on_commit(lambda: sandbox_event.send(sender=Sandbox, event=event, sandbox=sandbox, error=error))


_UNFINISHED = (
    RunStatus.QUEUED, RunStatus.PLANNING, RunStatus.PLANNED, RunStatus.CONFIRMED, RunStatus.APPLYING,
)  # fmt: skip


def on_run_finished(sender, run: Run, **kwargs) -> None:
    """runs.signals.run_finished: settle a sandbox's destroy as soon as its run ends."""
    if run.operation != Operation.DESTROY:
        return
    try:
        sandbox_destroy_finished(run=run)
    except Exception:
        log.exception("run %s: could not record the end of a sandbox destroy; the sweep will", run.pk)
