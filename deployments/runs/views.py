"""The run page: its log, timeline, plan and outcome, by polling or as the live stream's parts; approve, cancel and
download the raw log."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from deployments.errors import error_text
from deployments.plans.models import SavedPlan
from deployments.plans.selectors import run_readable_plan
from deployments.plans.services import plan_stale_reason
from deployments.runs import services as runs
from deployments.runs.choices import RunStatus
from deployments.runs.logs import visible_log_lines, visible_log_text
from deployments.runs.selectors import queue_position, run_for_user
from onboarding.access import can_deploy


def run_parts_shared(run) -> dict:
    """The changing parts of the run page that are the same for every viewer (read once, shared by live streams)."""
    return {
        "run": run,
        "project": run.deployment.environment.project,
        "transitions": list(run.transitions.all()),
        "queue_position": queue_position(run),
        "run_ahead": run.deployment.active_run if run.status == RunStatus.QUEUED else None,
        "plan": run_readable_plan(run),
        "stale": _stale(run),
    }


def _stale(run) -> str:
    """Why a plan waiting for a person can no longer be confirmed ("" when it can)."""
    if not run.awaiting_confirmation:
        return ""
    saved = SavedPlan.objects.filter(run_id=run.pk).only("id", "run_id", "state_version_id").first()
    return plan_stale_reason(saved, deployment_id=run.deployment_id) if saved else "it has no saved plan"


def user_rights(user, run) -> tuple[bool, bool]:
    """(may deploy the project, may confirm this run's plan): what the run's buttons depend on besides its state."""
    return can_deploy(user, run.deployment.environment.project), runs.can_confirm(user, run)


def with_actions(shared: dict, rights: tuple[bool, bool]) -> dict:
    """The shared parts plus the buttons this viewer gets."""
    run, (deployer, confirmer) = shared["run"], rights
    waiting = run.awaiting_confirmation
    return {
        **shared,
        "may_cancel": deployer and not run.is_finished and not waiting,
        "may_confirm": waiting and confirmer and not shared["stale"],
        "may_discard": waiting and deployer,
        "may_plan_again": deployer and bool(shared["stale"]),
    }


def run_parts_context(run, user) -> dict:
    """What the changing parts of the run page show (page, polling and live stream alike)."""
    return with_actions(run_parts_shared(run), user_rights(user, run))


def run_detail(request, pk):
    run = run_for_user(request.user, pk)
    lines = visible_log_lines(user=request.user, run=run, after=0, limit=5000)
    context = run_parts_context(run, request.user)
    context.update(lines=lines, cursor=lines[-1].seq if lines else 0, live_sse=settings.LIVE_SSE)
    return render(request, "deployments/run_detail.html", context)


def run_poll(request, pk):
    """Polling fallback: lines after the cursor plus the run's changing parts, swapped in by htmx."""
    run = run_for_user(request.user, pk)
    try:
        after = max(int(request.GET.get("after", 0)), 0)
    except ValueError:
        after = 0
    finished = run.is_finished  # read first: lines stored before the end are all visible now
    lines = visible_log_lines(user=request.user, run=run, after=after, limit=2000)
    context = run_parts_context(run, request.user)
    context.update(lines=lines, cursor=lines[-1].seq if lines else after, finished=finished and len(lines) < 2000)
    return render(request, "deployments/partials/run_poll.html", context)


def _run_action(request, pk, service, done: str):
    """POST a run action (approve, cancel), say how it went, and go back to the run."""
    run = run_for_user(request.user, pk)
    try:
        service(run=run, user=request.user)
        messages.success(request, done.format(run=run))
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, error_text(error))
    return redirect(run)


@require_POST
def run_approve(request, pk):
    return _run_action(request, pk, runs.run_approve, "Run #{run.pk}'s plan is approved: it is being applied.")


@require_POST
def run_confirm(request, pk):
    # The button a second lead sees says "Approve and apply": the message uses the same word.
    done = "approved" if run_for_user(request.user, pk).approval_required else "confirmed"
    return _run_action(request, pk, runs.run_confirm, "Run #{run.pk}'s plan is " + done + ": it is being applied.")


@require_POST
def run_discard(request, pk):
    return _run_action(request, pk, runs.run_discard, "Run #{run.pk}'s plan was discarded; nothing was applied.")


@require_POST
def run_plan_again(request, pk):
    """A stale plan cannot be applied: discard it and plan the same version again."""
    run = run_for_user(request.user, pk)
    try:
        new = runs.run_plan_again(run=run, user=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, error_text(error))
        return redirect(run)
    messages.success(request, f"Planning {new.artifact.version} again as run #{new.pk}.")
    return redirect(new)


@require_POST
def run_cancel(request, pk):
    return _run_action(request, pk, runs.run_cancel, "Cancelling run #{run.pk}.")


def run_log_download(request, pk):
    """The whole log as Terraform printed it: its JSON lines, and Hangar's and init's text lines."""
    run = run_for_user(request.user, pk)
    response = StreamingHttpResponse(
        visible_log_text(user=request.user, run=run), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}.log"'
    return response
