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
from deployments.runs import targets as run_targets
from deployments.runs.choices import ACTIVE_STATUSES, Operation, RunStatus, Target
from deployments.runs.models import Deployment, Run, RunTransition
from deployments.runs.signals import run_awaiting, run_finished
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
    _check_target(target)
    return env


def _check_target(target: str) -> None:
    """Refuse a target that is unknown, not enabled (HANGAR_TARGETS) or whose provider is not installed."""
    if target not in Target.values:
        raise ValidationError({"target": f"{target!r} is not a target; use one of: {', '.join(Target.values)}."})
    problems = run_targets.missing(target)
    if problems:
        raise ValidationError({"target": f"Target {target!r} is not available here: {' '.join(problems)}"})


def run_start(
    *,
    project: Project,
    environment: str,
    target: str,
    version: str,
    operation: str,
    user,
    confirm_destroy: bool = False,
    apply_automatically: bool | None = None,
) -> Run:
    """Queue a run; it starts as soon as the deployment's slot is free.

    An apply or destroy plans first and waits at `planned` for a person unless its environment applies
    automatically and the plan destroys or replaces nothing, or the caller confirmed destruction up front
    (`confirm_destroy`, an API pipeline that means it). `apply_automatically` overrides the environment's
    setting for Hangar's own runs (the shared Airflow, whose promotion policy is the gate).

    A refresh (*Accept reality*) is a lead's decision, and only of the deployed version (see `_check_refresh`).
    `environment` is dev, test or prod: a sandbox's runs are started by deployments.sandboxes."""
    if not can_deploy(user, project):
        raise PermissionDenied(f"Only members of {project.team} can deploy {project}.")
    if operation == Operation.REFRESH and not is_team_lead(user, project.team):
        raise PermissionDenied(f"Only a lead of {project.team} can accept reality on {project}.")
    if operation not in Operation.values:
        raise ValidationError(
            {"operation": f"{operation!r} is not an operation; use one of: {', '.join(Operation.values)}."}
        )
    env = _environment(project, environment, target)
    return run_queue(
        environment=env,
        target=target,
        version=version,
        operation=operation,
        user=user,
        confirm_destroy=confirm_destroy,
        apply_automatically=apply_automatically,
    )


def run_queue(
    *,
    environment: Environment,
    target: str,
    version: str,
    operation: str,
    user,
    confirm_destroy: bool = False,
    apply_automatically: bool | None = None,
    note: str = "",
) -> Run:
    """Queue a run on any environment, a sandbox included; the caller has checked who may.

    `user` None: Hangar itself (a sandbox's expiry), recorded as "system"; `note` says why."""
    env, project = environment, environment.project
    if operation not in Operation.values:
        raise ValidationError(
            {"operation": f"{operation!r} is not an operation; use one of: {', '.join(Operation.values)}."}
        )
    _check_target(target)
    artifact = Artifact.objects.filter(project=project, version=version).first()
    if artifact is None:
        raise ValidationError({"version": f"{project} has no artifact version {version!r}; upload it first."})
    built_for = str((artifact.manifest or {}).get("target") or Target.LOCAL)
    if built_for != target:
        raise ValidationError(
            {
                "version": f"Version {version} was built for target {built_for!r}, not {target!r}; "
                f"build it with --target {target}."
            }
        )
    environments = artifact.manifest.get("environments") or []
    if environments and env.definition not in environments:
        raise ValidationError(
            {
                "environment": f"Version {version} defines no {env.definition!r} environment (it has: {', '.join(environments)})."
            }
        )
    if operation == Operation.REFRESH:
        _check_refresh(env, target, artifact)
    with transaction.atomic():
        deployment, _ = Deployment.objects.get_or_create(environment=env, target=target)
        needs_approval = env.name == "prod" and project.prod_requires_approval and operation != Operation.PLAN
        auto_apply = env.auto_apply if apply_automatically is None else apply_automatically
        run = Run.objects.create(
            deployment=deployment,
            artifact=artifact,
            operation=operation,
            requested_by=user,
            approval_required=needs_approval,
            confirm_destroy=bool(confirm_destroy) and operation in (Operation.APPLY, Operation.DESTROY),
            auto_apply=auto_apply and operation != Operation.PLAN,
        )
        who = user.get_username() if user is not None else "Hangar"
        note = (note or f"requested by {who}") + (
            "; its plan will wait for a second team lead's approval" if needs_approval else ""
        )
        RunTransition.objects.create(run=run, status=RunStatus.QUEUED, note=note)
        audit_record(actor=user, action=f"run.{operation}", obj=run, version=version, environment=env.name)
        transaction.on_commit(lambda: run_dispatch(deployment_id=deployment.pk))
    return run


def _check_refresh(env: Environment, target: str, artifact: Artifact) -> None:
    """Accept reality (`terraform apply -refresh-only`) only of the version deployed there: the state then takes
    what really exists, as that version's definition describes it."""
    deployment = Deployment.objects.filter(environment=env, target=target).select_related("deployed_artifact").first()
    deployed = deployment.deployed_artifact if deployment else None
    where = f"{env.name} / {target}"
    if deployed is None:
        raise ValidationError(
            {"version": f"Nothing is deployed on {where}: there is no reality to accept. Deploy a version first."}
        )
    if deployed.pk != artifact.pk:
        raise ValidationError(
            {
                "version": f"Accept reality works on the deployed version only: {where} runs {deployed.version}, "
                f"not {artifact.version}."
            }
        )


def run_dispatch(*, deployment_id: int) -> Run | None:
    """Give the deployment's free slot to its oldest queued run and hand that to a worker."""
    with transaction.atomic():
        deployment = Deployment.objects.select_for_update().get(pk=deployment_id)
        if deployment.active_run_id is not None:
            return None
        run = deployment.runs.filter(status=RunStatus.QUEUED).order_by("id").first()
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
    """The worker's first step: take a queued run (to plan) or a confirmed one (to apply its saved plan)
    that holds its deployment's slot."""
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("deployment").filter(pk=run_id).first()
        claimable = (RunStatus.QUEUED, RunStatus.CONFIRMED)
        if run is None or run.status not in claimable or run.deployment.active_run_id != run.pk:
            return None  # cancelled meanwhile, or a duplicate delivery
        if run.status == RunStatus.QUEUED:
            status, note = RunStatus.PLANNING, f"started on {worker}"
        else:
            status, note = RunStatus.APPLYING, f"applying the saved plan on {worker}"
        run_transition(run=run, status=status, note=note, worker=worker, heartbeat_at=timezone.now())
    return run


def confirmation_reasons(run: Run, *, destroys: bool) -> list[str]:
    """Why a run's saved plan must wait for a person ([] when it may be applied at once)."""
    reasons = []
    if run.approval_required:
        reasons.append("production changes need a second team lead's approval")
    elif not run.auto_apply:
        reasons.append(f"{run.deployment.environment.name} does not apply automatically")
    if destroys and not run.confirm_destroy:
        reasons.append("the plan destroys or replaces resources")
    return reasons


def run_park(*, run: Run, reasons: list[str]) -> None:
    """The worker leaves a planned run to a person: the run keeps its slot until it is confirmed, discarded or
    expires; its credentials and heartbeat end now (no worker holds it)."""
    expires = timezone.now() + timedelta(seconds=settings.PLAN_CONFIRM_TIMEOUT)
    with transaction.atomic():
        if Run.objects.select_for_update().filter(pk=run.pk).values_list("status", flat=True).first() != run.status:
            raise ValidationError(f"Run #{run.pk} was ended while it was being planned.")
        run_transition(
            run=run,
            status=RunStatus.PLANNED,
            note=f"waiting for confirmation: {'; '.join(reasons)}"[:500],
            needs_confirmation=True,
            plan_expires_at=expires,
            heartbeat_at=None,
            state_credential="",
        )
        state_services.state_release_for_run(run=run)
        transaction.on_commit(lambda: run_awaiting.send(sender=Run, run=run))


def can_confirm(user, run: Run) -> bool:
    """Who may confirm a saved plan: for production with approval, a second lead (or an admin); otherwise
    whoever may deploy the project."""
    if run.approval_required:
        return can_approve(user, run)
    return can_deploy(user, run.deployment.environment.project)


def run_confirm(*, run: Run, user) -> Run:
    """Apply exactly the run's saved plan: it goes to a worker as `confirmed`. Refused (ValidationError with
    code "conflict") when the run is not waiting for a confirmation, or its plan expired or is stale."""
    from deployments.plans.services import plan_stale_reason

    if not can_confirm(user, run):
        if run.approval_required:
            raise PermissionDenied(
                "Only a lead of the project's team who did not request this run can approve its plan (or an admin)."
            )
        raise PermissionDenied(f"Only members of {run.deployment.environment.project.team} can confirm its plans.")
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("deployment").get(pk=run.pk)
        if not run.awaiting_confirmation:
            raise ValidationError(f"Run #{run.pk} is not waiting for a confirmation ({run.status}).", code="conflict")
        if run.plan_expires_at and run.plan_expires_at <= timezone.now():
            raise ValidationError(f"Run #{run.pk}'s plan expired; plan again.", code="conflict")
        saved = getattr(run, "saved_plan", None)
        stale = plan_stale_reason(saved) if saved else "it has no saved plan"
        if stale:
            raise ValidationError(f"The plan of run #{run.pk} is stale: {stale}.", code="stale")
        who = user.get_username()
        run_transition(
            run=run,
            status=RunStatus.CONFIRMED,
            note=("approved" if run.approval_required else "confirmed") + f" by {who}",
            confirmed_by=user,
            confirmed_at=timezone.now(),
            dispatched_at=timezone.now(),
            dispatch_count=run.dispatch_count + 1,
            **({"approved_by": user, "approved_at": timezone.now()} if run.approval_required else {}),
        )
        audit_record(actor=user, action="run.confirm", obj=run, plan_sha256=saved.sha256)
        transaction.on_commit(lambda: _send(run.pk))
    return run


def run_discard(*, run: Run, user, note: str = "") -> Run:
    """Drop a planned run's saved plan unapplied and free its slot for the next run."""
    if user is not None and not can_deploy(user, run.deployment.environment.project):
        raise PermissionDenied("Only members of the project's team can discard its plans.")
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run.pk)
        if not run.awaiting_confirmation:
            raise ValidationError(f"Run #{run.pk} is not waiting for a confirmation ({run.status}).", code="conflict")
        if user is not None:
            audit_record(actor=user, action="run.discard", obj=run)
        run_finish(
            run=run, status=RunStatus.DISCARDED, note=note or f"discarded by {user.get_username()}; nothing was applied"
        )
    run.refresh_from_db()
    return run


def run_plan_again(*, run: Run, user) -> Run:
    """Discard a run's plan if it still waits (a stale one cannot be confirmed) and queue the same version again."""
    project = run.deployment.environment.project
    if not can_deploy(user, project):
        raise PermissionDenied(f"Only members of {project.team} can deploy {project}.")
    if run.awaiting_confirmation:
        run_discard(run=run, user=user, note=f"discarded by {user.get_username()} to plan again")
    return run_queue(
        environment=run.deployment.environment,
        target=run.deployment.target,
        version=run.artifact.version,
        operation=run.operation,
        user=user,
        confirm_destroy=run.confirm_destroy,
    )


def expire_plans() -> list[int]:
    """Discard planned runs nobody confirmed within PLAN_CONFIRM_TIMEOUT, so their queues move on."""
    expired = Run.objects.filter(status=RunStatus.PLANNED, plan_expires_at__lte=timezone.now())
    done = []
    for run in expired:
        hours = settings.PLAN_CONFIRM_TIMEOUT / 3600
        try:
            run_discard(
                run=run,
                user=None,
                note=f"expired: nobody confirmed the plan within {hours:g} h (PLAN_CONFIRM_TIMEOUT); nothing was applied",
            )
        except ValidationError:
            continue  # confirmed or discarded meanwhile
        done.append(run.pk)
    return done


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
        # A refresh (Accept reality) deploys no version: Version, Deployed by and Deployed at stay as they were.
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
        if run.awaiting_confirmation:  # no worker holds a planned run: cancelling it discards its plan
            transaction.on_commit(
                lambda: run_discard(run=run, user=user, note=f"cancelled by {user.get_username()}; nothing was applied")
            )
            return
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
    """Approve a production run: confirm its saved plan as its second lead (see run_confirm)."""
    return run_confirm(run=run, user=user)


def reap_lost_runs() -> list[int]:
    """Fail runs whose worker stopped sending heartbeats, so queues move on; re-send runs no worker
    started (see `redispatch_stuck_runs`). Returns the runs failed as lost."""
    deadline = timezone.now() - timedelta(seconds=settings.RUN_HEARTBEAT_TIMEOUT)
    # A worker holds these; a planned run waiting for a person, or a confirmed one waiting for a worker, has none.
    working = Q(status__in=(RunStatus.PLANNING, RunStatus.APPLYING)) | Q(
        status=RunStatus.PLANNED, plan_expires_at__isnull=True
    )
    lost = list(Run.objects.filter(working, heartbeat_at__lt=deadline).select_related("deployment"))
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
    expire_plans()
    return [run.pk for run in lost]


def redispatch_stuck_runs() -> list[int]:
    """Runs that hold their deployment's slot but are still queued RUN_DISPATCH_TIMEOUT seconds after they
    were handed to the workers: their task message was lost, or its worker died before claiming it.

    Each is sent again (a duplicate delivery does nothing: only a queued run holding its slot is
    claimed); after RUN_DISPATCH_ATTEMPTS sends it is failed with a message and the queue moves on.
    Returns the runs sent again or failed."""
    timeout = settings.RUN_DISPATCH_TIMEOUT
    cutoff = timezone.now() - timedelta(seconds=timeout)
    waiting = (RunStatus.QUEUED, RunStatus.CONFIRMED)  # handed to the workers, not yet claimed
    stuck = Deployment.objects.filter(active_run__status__in=waiting).filter(
        Q(active_run__dispatched_at__lt=cutoff) | Q(active_run__dispatched_at__isnull=True)
    )
    handled = []
    for run_id in stuck.values_list("active_run_id", flat=True):
        with transaction.atomic():
            run = Run.objects.select_for_update().select_related("deployment").get(pk=run_id)
            deployment = Deployment.objects.select_for_update().get(pk=run.deployment_id)
            if run.status not in waiting or deployment.active_run_id != run.pk:
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
