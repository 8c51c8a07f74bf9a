"""Starting, queueing, cancelling and finishing runs.

Runs on one deployment (environment + target) are strictly serialised:
`Deployment.active_run` is the single slot, taken under a row lock, so two
Terraform processes never work on one state. Finishing a run frees the slot
and dispatches the next queued one."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from deployments.artifacts.models import Artifact
from deployments.live import wakeups
from deployments.runs import dispatch
from deployments.runs.choices import ACTIVE_STATUSES, Operation, RunStatus, Target
from deployments.runs.models import Deployment, Run, RunTransition
from deployments.runs.signals import run_finished
from deployments.state import services as state_services
from onboarding.access import can_deploy, is_team_lead
from onboarding.models import Environment, Project
from portal.audit import audit_record


def _environment(project: Project, environment: str, target: str) -> Environment:
    env = project.environments.filter(name=environment).first()
    if env is None:
        allowed = ", ".join(project.environments.values_list("name", flat=True))
        raise ValidationError(
            {"environment": f"{environment!r} is not an environment of {project}; use one of: {allowed}."}
        )
    if target not in Target.values:
        raise ValidationError({"target": f"{target!r} is not a target; use one of: {', '.join(Target.values)}."})
    return env


def run_start(*, project: Project, environment: str, target: str, version: str, operation: str, user) -> Run:
    """Queue a run; it starts as soon as the deployment's slot is free."""
    if not can_deploy(user, project):
        raise PermissionDenied(f"Only members of {project.team} can deploy {project}.")
    if operation not in Operation.values:
        raise ValidationError(
            {"operation": f"{operation!r} is not an operation; use one of: {', '.join(Operation.values)}."}
        )
    env = _environment(project, environment, target)
    artifact = Artifact.objects.filter(project=project, version=version).first()
    if artifact is None:
        raise ValidationError({"version": f"{project} has no artifact version {version!r}; upload it first."})
    environments = artifact.manifest.get("environments") or []
    if environments and environment not in environments:
        raise ValidationError(
            {
                "environment": f"Version {version} defines no {environment!r} environment (it has: {', '.join(environments)})."
            }
        )
    with transaction.atomic():
        deployment, _ = Deployment.objects.get_or_create(environment=env, target=target)
        needs_approval = env.name == "prod" and project.prod_requires_approval and operation != Operation.PLAN
        run = Run.objects.create(
            deployment=deployment,
            artifact=artifact,
            operation=operation,
            requested_by=user,
            approval_required=needs_approval,
        )
        note = f"requested by {user.get_username()}" + (
            "; waiting for a team lead's approval" if needs_approval else ""
        )
        RunTransition.objects.create(run=run, status=RunStatus.QUEUED, note=note)
        audit_record(actor=user, action=f"run.{operation}", obj=run, version=version, environment=environment)
        transaction.on_commit(lambda: run_dispatch(deployment_id=deployment.pk))
    return run


def run_dispatch(*, deployment_id: int) -> Run | None:
    """Give the deployment's free slot to its oldest queued run and hand that to a worker."""
    with transaction.atomic():
        deployment = Deployment.objects.select_for_update().get(pk=deployment_id)
        if deployment.active_run_id is not None:
            return None
        # Runs waiting for approval stand aside: they do not hold up the queue.
        ready = Q(approval_required=False) | Q(approved_at__isnull=False)
        run = deployment.runs.filter(ready, status=RunStatus.QUEUED).order_by("id").first()
        if run is None:
            return None
        deployment.active_run = run
        deployment.save(update_fields=["active_run"])
        run.dispatched_at, run.dispatch_count = timezone.now(), run.dispatch_count + 1
        run.save(update_fields=["dispatched_at", "dispatch_count"])
        transaction.on_commit(lambda: _send(run.pk))
    return run


def _send(run_id: int) -> None:
    """Hand a run to the workers. If the message is lost (broker down, worker lost before claiming),
    the reaper sends it again after RUN_DISPATCH_TIMEOUT; a duplicate delivery does nothing."""
    task_id = dispatch.send_task(dispatch.EXECUTE_RUN, run_id)
    Run.objects.filter(pk=run_id).update(task_id=task_id)


def run_transition(*, run: Run, status: str, note: str = "", **fields) -> None:
    """Move a run to a status, recording when; extra fields are saved with it."""
    now = timezone.now()
    if status in ACTIVE_STATUSES and run.started_at is None:
        fields.setdefault("started_at", now)
    for name, value in {"status": status, **fields}.items():
        setattr(run, name, value)
    run.save(update_fields=["status", *fields])
    RunTransition.objects.create(run=run, status=status, note=note[:500])
    transaction.on_commit(lambda: wakeups.notify(run.pk))


def run_claim(*, run_id: int, worker: str) -> Run | None:
    """The worker's first step: take a queued run that holds its deployment's slot."""
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("deployment").filter(pk=run_id).first()
        if run is None or run.status != RunStatus.QUEUED or run.deployment.active_run_id != run.pk:
            return None  # cancelled meanwhile, or a duplicate delivery
        run_transition(
            run=run, status=RunStatus.PLANNING, note=f"started on {worker}", worker=worker, heartbeat_at=timezone.now()
        )
    return run


def run_finish(*, run: Run, status: str, error: str = "", note: str = "") -> None:
    """Record the outcome, free the slot and start the next queued run."""
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        if run.is_finished:
            return
        deployment = Deployment.objects.select_for_update().get(pk=run.deployment_id)
        run_transition(
            run=run,
            status=status,
            note=note or (error.splitlines() or [""])[0],
            finished_at=timezone.now(),
            error=error,
            state_credential="",
        )
        state_services.state_release_for_run(run=run)
        if deployment.active_run_id == run.pk:
            deployment.active_run = None
        deployment.last_run = run
        if status == RunStatus.SUCCEEDED and run.operation == Operation.APPLY:
            deployment.deployed_artifact = run.artifact
            deployment.deployed_run = run
        elif status == RunStatus.SUCCEEDED and run.operation == Operation.DESTROY:
            deployment.deployed_artifact = None
            deployment.deployed_run = None
        deployment.save(update_fields=["active_run", "last_run", "deployed_artifact", "deployed_run"])
        transaction.on_commit(lambda: run_dispatch(deployment_id=deployment.pk))
        transaction.on_commit(lambda: run_finished.send(sender=Run, run=run))


def run_cancel(*, run: Run, user) -> None:
    """Cancel a queued run at once; ask the worker to stop a running one."""
    if not can_deploy(user, run.deployment.environment.project):
        raise PermissionDenied("Only members of the project's team can cancel its runs.")
    if run.is_finished:
        raise ValidationError(f"Run #{run.pk} has already ended ({run.status}).")
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("deployment").get(pk=run.pk)
        audit_record(actor=user, action="run.cancel", obj=run)
        if run.status == RunStatus.QUEUED and run.deployment.active_run_id != run.pk:
            note = f"cancelled by {user.get_username()} while queued"
            run_transition(run=run, status=RunStatus.CANCELLED, note=note, finished_at=timezone.now())
            transaction.on_commit(lambda: run_finished.send(sender=Run, run=run))
            return
        # Running, or holding the slot before its worker started: the worker sees the request.
        Run.objects.filter(pk=run.pk).update(cancel_requested_at=timezone.now())


def can_approve(user, run: Run) -> bool:
    """A lead of the project's team who did not ask for the run (four eyes); admins always."""
    if user.is_superuser:
        return True
    return is_team_lead(user, run.deployment.environment.project.team) and run.requested_by_id != user.pk


def run_approve(*, run: Run, user) -> Run:
    """Let a production run that waits for approval join its queue."""
    if not can_approve(user, run):
        raise PermissionDenied(
            "Only a lead of the project's team who did not request this run can approve it (or an admin)."
        )
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        if not run.awaiting_approval:
            raise ValidationError(f"Run #{run.pk} is not waiting for approval ({run.status}).")
        run.approved_by, run.approved_at = user, timezone.now()
        run.save(update_fields=["approved_by", "approved_at"])
        RunTransition.objects.create(run=run, status=run.status, note=f"approved by {user.get_username()}")
        audit_record(actor=user, action="run.approve", obj=run)
        transaction.on_commit(lambda: wakeups.notify(run.pk))
        transaction.on_commit(lambda: run_dispatch(deployment_id=run.deployment_id))
    return run


def reap_lost_runs() -> list[int]:
    """Fail runs whose worker stopped sending heartbeats, so queues move on; re-send runs no worker
    started (see `redispatch_stuck_runs`). Returns the runs failed as lost."""
    deadline = timezone.now() - timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT)
    lost = list(Run.objects.filter(status__in=ACTIVE_STATUSES, heartbeat_at__lt=deadline).select_related("deployment"))
    for run in lost:
        last = timezone.localtime(run.heartbeat_at).strftime("%Y-%m-%d %H:%M:%S %Z")
        run_finish(
            run=run,
            status=RunStatus.FAILED,
            error=(
                f"The worker running this run ({run.worker or 'unknown'}) stopped responding; its last heartbeat was "
                f"at {last}. It was probably killed or its machine was lost. Terraform may have stopped part-way, "
                "so some resources may have changed; the state lock was released. Check the log, then deploy again: "
                "Terraform continues from the stored state."
            ),
        )
    redispatch_stuck_runs()
    return [run.pk for run in lost]


def redispatch_stuck_runs() -> list[int]:
    """Runs that hold their deployment's slot but are still queued RUN_DISPATCH_TIMEOUT seconds after they
    were handed to the workers: their task message was lost, or its worker died before claiming it.

    Each is sent again (a duplicate delivery does nothing: only a queued run holding its slot is
    claimed); after RUN_DISPATCH_ATTEMPTS sends it is failed with a message and the queue moves on.
    Returns the runs sent again or failed."""
    timeout = settings.RUN_DISPATCH_TIMEOUT
    cutoff = timezone.now() - timedelta(seconds=timeout)
    stuck = Deployment.objects.filter(active_run__status=RunStatus.QUEUED).filter(
        Q(active_run__dispatched_at__lt=cutoff) | Q(active_run__dispatched_at__isnull=True)
    )
    handled = []
    for run_id in stuck.values_list("active_run_id", flat=True):
        with transaction.atomic():
            run = Run.objects.select_for_update().select_related("deployment").get(pk=run_id)
            deployment = Deployment.objects.select_for_update().get(pk=run.deployment_id)
            if run.status != RunStatus.QUEUED or deployment.active_run_id != run.pk:
                continue  # claimed or ended meanwhile
            if run.dispatched_at is not None and run.dispatched_at >= cutoff:
                continue
            if run.dispatch_count >= settings.RUN_DISPATCH_ATTEMPTS:
                transaction.on_commit(
                    lambda run=run, count=run.dispatch_count: run_finish(
                        run=run,
                        status=RunStatus.FAILED,
                        error=(
                            f"No worker started this run: it was handed to the workers {count} times, "
                            f"{timeout} seconds apart (RUN_DISPATCH_TIMEOUT), and stayed queued. Its task was lost, "
                            "or no worker is running or every one is busy. Nothing was changed; its slot was freed "
                            "so the queue moves on. Check the workers, then start the run again."
                        ),
                    )
                )
            else:
                run.dispatched_at, run.dispatch_count = timezone.now(), run.dispatch_count + 1
                run.save(update_fields=["dispatched_at", "dispatch_count"])
                RunTransition.objects.create(
                    run=run,
                    status=run.status,
                    note=f"no worker had started it after {timeout} s: handed to the workers again "
                    f"(attempt {run.dispatch_count} of {settings.RUN_DISPATCH_ATTEMPTS})",
                )
                transaction.on_commit(lambda run_id=run.pk: _send(run_id))
            handled.append(run.pk)
    return handled


def run_free_slot(*, deployment: Deployment, user) -> Run | None:
    """An admin frees a deployment whose queue is stuck: the run holding the slot is failed (a worker
    still running its Terraform stops it: its watchdog sees the run ended), any state lock it held is
    released, and the next queued run starts. Audited."""
    if not getattr(user, "is_superuser", False):
        raise PermissionDenied("Only admins can free a deployment's slot.")
    with transaction.atomic():
        deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
        if deployment.active_run_id is None:
            return None
        run = Run.objects.select_for_update().get(pk=deployment.active_run_id)
        audit_record(
            actor=user,
            action="deployment.free_slot",
            obj=deployment,
            run=run.pk,
            status=run.status,
            worker=run.worker,
            heartbeat_at=run.heartbeat_at.isoformat() if run.heartbeat_at else None,
        )
    if run.is_finished:  # finished but still holding the slot: just free it
        with transaction.atomic():
            Deployment.objects.filter(pk=deployment.pk, active_run=run).update(active_run=None)
            transaction.on_commit(lambda: run_dispatch(deployment_id=deployment.pk))
        return run
    was = "queued, never started by a worker" if run.status == RunStatus.QUEUED else f"{run.status} on {run.worker}"
    run_finish(
        run=run,
        status=RunStatus.FAILED,
        error=(
            f"An admin ({user.get_username()}) freed this deployment's slot while this run was {was}. "
            "If a worker was still running its Terraform, it stopped it. Check the log and the state, then deploy again."
        ),
    )
    return run
