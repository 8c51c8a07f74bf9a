"""Drift checks: start one (Check now, or the schedule's sweep), run it on a worker, keep the results.

A check is read-only and outside the run queue (plans/readonly.py): it takes no slot and no lock, and
it is skipped, to be retried at the next sweep, while the deployment has an active run or when a run
started during it (its result would describe a moment that is already gone)."""

import json
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from deployments.drift.models import DriftCheck
from deployments.drift.signals import drift_changed
from deployments.plans.readable import ReadablePlan, readable_plan
from deployments.plans.readonly import ERROR_TAIL, Job, PlanFailed, failure_text, reader_authenticate, readonly_job
from deployments.runs import dispatch
from deployments.runs.models import Deployment, Run
from onboarding.access import can_deploy

DRIFT_CHECK = "deployments.drift.check"
USERNAME_PREFIX = "drift-"
PLAN_FILE = "drift.tfplan"
LOG_LIMIT = 256 * 1024
ACTIVE = (DriftCheck.Status.QUEUED, DriftCheck.Status.RUNNING)


def drift_check_start(*, deployment: Deployment, user=None) -> DriftCheck:
    """Queue a check of `deployment`'s deployed version now (`user` None: the schedule). A check already
    queued or running is returned instead of starting a second one."""
    project = deployment.environment.project
    if user is not None and not can_deploy(user, project):
        raise PermissionDenied("Only leads and members of the project's team can check for drift; viewers only watch.")
    if deployment.deployed_artifact_id is None:
        raise ValidationError(nothing_deployed(deployment.environment.name, deployment.target))
    with transaction.atomic():
        Deployment.objects.select_for_update().filter(pk=deployment.pk).first()  # one check at a time per row
        pending = deployment.drift_checks.filter(status__in=ACTIVE).first()
        if pending is not None:
            return pending
        check = DriftCheck.objects.create(
            deployment=deployment, artifact_id=deployment.deployed_artifact_id, requested_by=user
        )
        transaction.on_commit(lambda: dispatch.send_task(DRIFT_CHECK, check.pk))
    return check


def nothing_deployed(environment: str, target: str) -> str:
    return f"Nothing is deployed on {environment} / {target}, so there is nothing to check for drift. Deploy first."


def drift_check_authenticate(*, deployment_id: int, username: str, password: str) -> DriftCheck:
    """The running check these state-backend credentials belong to; it may read this deployment's state only."""
    return reader_authenticate(
        DriftCheck, prefix=USERNAME_PREFIX, deployment_id=deployment_id, username=username, password=password
    )


def drift_check_execute(*, check_id: int) -> None:
    """A worker's part: plan the deployed version read-only, record what changed outside Hangar."""
    claimed = DriftCheck.objects.filter(pk=check_id, status=DriftCheck.Status.QUEUED).update(
        status=DriftCheck.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return  # a duplicate delivery, or skipped as lost meanwhile
    check = DriftCheck.objects.select_related("deployment__environment__project", "artifact").get(pk=check_id)
    deployment = check.deployment
    if deployment.active_run_id is not None:
        return _skip(check, "A run was active on this deployment; the check is retried at the next sweep.")
    if deployment.deployed_artifact_id is None:
        return _skip(check, "Nothing is deployed any more.")
    if deployment.deployed_artifact_id != check.artifact_id:  # another version was deployed since it was queued
        check.artifact = deployment.deployed_artifact
        DriftCheck.objects.filter(pk=check.pk).update(artifact=check.artifact)
    try:
        with readonly_job(row=check, prefix=USERNAME_PREFIX, deployment=deployment, artifact=check.artifact) as job:
            result = _check(job, deployment)
    except Exception as error:
        text = failure_text(error, what="checking for drift")
        result = {"outcome": DriftCheck.Outcome.CHECK_FAILED, "error": text[-ERROR_TAIL:]}
    if _run_since(deployment, check.started_at):
        return _skip(check, "A run started during the check, so its result would be out of date; retried later.")
    _finish(check, **result)


def _check(job: Job, deployment: Deployment) -> dict:
    job.terraform("init", "-input=false", "-no-color")
    log = job.terraform("plan", "-refresh-only", "-json", "-lock=false", "-input=false", f"-out={PLAN_FILE}").decode(
        "utf-8", "replace"
    )
    readable = ReadablePlan()
    # Terraform announces each drifted resource in its -json output; only then is the plan file read for the
    # attributes. `show -json` starts the provider again: a quarter of an in-sync check's CPU (bench/README.md).
    if drift_messages(log):
        try:
            plan_json = json.loads(job.terraform("show", "-json", PLAN_FILE))
        except ValueError:
            raise PlanFailed("terraform show -json printed no plan that Hangar could read.") from None
        sources = job.sources()
        readable = readable_plan(plan_json, sources=sources, main_yaml=f"infrastructure/{job.environment}/main.yaml")
    drifted = len(readable.drift) + readable.omitted_drift
    would_change = None
    # With no drift, a deploy of the version that was applied last changes nothing: skip the second plan.
    if drifted or deployment.last_run_id != deployment.deployed_run_id:
        normal = job.terraform("plan", "-json", "-lock=false", "-input=false").decode("utf-8", "replace")
        log += normal
        would_change = _change_summary(normal)
    return {
        "outcome": DriftCheck.Outcome.DRIFTED if drifted else DriftCheck.Outcome.IN_SYNC,
        "resources": drift_resources(readable),
        "drifted_count": drifted,
        "would_change": would_change,
        "log": log[-LOG_LIMIT:],
    }


def drift_messages(log: str) -> int:
    """How many `resource_drift` messages Terraform's -json output holds."""
    count = 0
    for line in log.splitlines():
        if '"resource_drift"' not in line:
            continue
        try:
            message = json.loads(line)
        except ValueError:
            continue
        count += isinstance(message, dict) and message.get("type") == "resource_drift"
    return count


def drift_resources(readable: ReadablePlan) -> list[dict]:
    """The drifted resources of a refresh-only plan, in the API's shape, with a sentence per change."""
    return [
        {
            "address": resource.address,
            "action": resource.action,
            "title": resource.title,
            "dsl": {"kind": resource.dsl.kind, "name": resource.dsl.name} if resource.dsl else None,
            "changes": [
                {"path": change.path, "before": change.before, "after": change.after, "sentence": change.sentence}
                for change in resource.changes
            ],
            "omitted_changes": resource.omitted_changes,
        }
        for resource in readable.drift
    ]


def _change_summary(log: str) -> dict | None:
    """{add, change, destroy} from the plan's `change_summary` line of Terraform's -json output."""
    for line in reversed(log.splitlines()):
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("type") == "change_summary":
            changes = message.get("changes") or {}
            names = {"add": "add", "change": "change", "destroy": "remove"}
            return {key: int(changes.get(name, 0)) for key, name in names.items()}
    return None


def _run_since(deployment: Deployment, started_at) -> bool:
    """A run held the deployment at some point since `started_at`: the cloud may have changed under the check."""
    runs = Run.objects.filter(deployment=deployment)
    return (
        runs.filter(Q(started_at__gte=started_at) | Q(finished_at__gte=started_at)).exists()
        or Deployment.objects.filter(pk=deployment.pk, active_run__isnull=False).exists()
    )


def _skip(check: DriftCheck, note: str) -> None:
    DriftCheck.objects.filter(pk=check.pk).update(
        status=DriftCheck.Status.SKIPPED, note=note, finished_at=timezone.now()
    )


def _finish(check: DriftCheck, **result) -> None:
    with transaction.atomic():
        DriftCheck.objects.filter(pk=check.pk).update(
            status=DriftCheck.Status.FINISHED, finished_at=timezone.now(), **result
        )
        newest = (
            Deployment.objects.filter(pk=check.deployment_id)
            .filter(Q(last_drift_check__isnull=True) | Q(last_drift_check_id__lt=check.pk))
            .update(last_drift_check=check.pk)
        )
        if newest:
            _tell_if_health_changed(check, result.get("outcome"))
    drift_checks_prune(deployment_id=check.deployment_id)


SETTLED = (DriftCheck.Outcome.IN_SYNC, DriftCheck.Outcome.DRIFTED)


def _tell_if_health_changed(check: DriftCheck, outcome: str | None) -> None:
    """In sync → drifted (or a first check that finds drift), and drifted → in sync, are news: `drift_changed`
    after the commit. A failed check in between changes nothing: the comparison is with the newest earlier
    check that said in sync or drifted."""
    if outcome not in SETTLED:
        return
    previous = (
        DriftCheck.objects.filter(
            deployment_id=check.deployment_id, pk__lt=check.pk, status=DriftCheck.Status.FINISHED, outcome__in=SETTLED
        )
        .order_by("-id")
        .first()
    )
    was = previous.outcome if previous else DriftCheck.Outcome.IN_SYNC
    if was == outcome:
        return
    check_id = check.pk

    def tell() -> None:
        finished = DriftCheck.objects.select_related("deployment__environment__project").filter(pk=check_id).first()
        if finished is not None:
            drift_changed.send(sender=DriftCheck, check=finished, previous=previous)

    transaction.on_commit(tell)


def drift_checks_prune(*, deployment_id: int) -> int:
    """Keep a deployment's DRIFT_KEEP newest checks, every check that found drift, and its Health's check."""
    keep = list(
        DriftCheck.objects.filter(deployment_id=deployment_id)
        .order_by("-id")
        .values_list("id", flat=True)[: settings.DRIFT_KEEP]
    )
    deleted, _ = (
        DriftCheck.objects.filter(
            deployment_id=deployment_id, status__in=(DriftCheck.Status.FINISHED, DriftCheck.Status.SKIPPED)
        )
        .exclude(pk__in=keep)
        .exclude(outcome=DriftCheck.Outcome.DRIFTED)
        .exclude(pk__in=Deployment.objects.filter(pk=deployment_id).values("last_drift_check"))
        .delete()
    )
    return deleted


# -- the schedule --------------------------------------------------------------------------------------


def deployments_due(now=None):
    """Deployments whose drift check is due, the longest unchecked first: a deployed version, no check queued or
    running, and no finished check since DRIFT_CHECK_INTERVAL ago or since its last run finished."""
    now = now or timezone.now()
    horizon = now - timedelta(seconds=settings.DRIFT_CHECK_INTERVAL)
    return (
        Deployment.objects.filter(deployed_artifact__isnull=False)
        .exclude(drift_checks__status__in=ACTIVE)
        .filter(
            Q(last_drift_check__isnull=True)
            | Q(last_drift_check__finished_at__lte=horizon)
            | Q(last_run__finished_at__gt=F("last_drift_check__finished_at"))
        )
        .order_by(F("last_drift_check__finished_at").asc(nulls_first=True), "id")
    )


def drift_sweep(now=None) -> list[int]:
    """Celery beat's part, every DRIFT_SWEEP_INTERVAL: queue up to DRIFT_SWEEP_BATCH due checks, spread over the
    interval so that they do not all start at once. Returns the checks queued."""
    if settings.DRIFT_CHECK_INTERVAL <= 0:
        return []
    now = now or timezone.now()
    _reap_lost_checks(now)
    due = list(deployments_due(now).values_list("pk", "deployed_artifact_id")[: settings.DRIFT_SWEEP_BATCH])
    if not due:
        return []
    gap = settings.DRIFT_SWEEP_INTERVAL / len(due)
    checks = DriftCheck.objects.bulk_create(
        [DriftCheck(deployment_id=pk, artifact_id=artifact_id) for pk, artifact_id in due]
    )
    for position, check in enumerate(checks):
        transaction.on_commit(
            lambda pk=check.pk, delay=position * gap: dispatch.send_task(DRIFT_CHECK, pk, countdown=delay)
        )
    return [check.pk for check in checks]


def _reap_lost_checks(now) -> None:
    """Checks whose task message or worker was lost: a queued one is skipped (the next sweep tries again), a running
    one has failed."""
    queued_deadline = now - timedelta(seconds=2 * settings.DRIFT_SWEEP_INTERVAL + settings.RUN_DISPATCH_TIMEOUT)
    DriftCheck.objects.filter(status=DriftCheck.Status.QUEUED, created_at__lt=queued_deadline).update(
        status=DriftCheck.Status.SKIPPED, note="No worker took the check in time; retried at the next sweep.",
        finished_at=now,
    )  # fmt: skip
    running_deadline = now - timedelta(seconds=settings.RUN_TIME_LIMIT + settings.RUN_HEARTBEAT_TIMEOUT)
    DriftCheck.objects.filter(status=DriftCheck.Status.RUNNING, started_at__lt=running_deadline).update(
        status=DriftCheck.Status.SKIPPED, note="The worker running the check was lost; retried at the next sweep.",
        finished_at=now, credential="",
    )  # fmt: skip
