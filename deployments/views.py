"""Deploy, deployments table, history, run and state pages. Thin: parse, call, render."""

import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from deployments import runs, state_backend
from deployments.artifact_browse import artifact_file_view
from deployments.choices import Operation, RunStatus, Target
from deployments.forms import DeployForm
from deployments.logs import log_lines_after
from deployments.models import Deployment, LogLine, StateVersion
from deployments.operations import operations_summary
from deployments.selectors import project_artifacts, run_for_user
from deployments.tables import SORT_KEYS, deployment_rows
from onboarding.access import can_deploy, project_for_user
from onboarding.views import PROJECT_TABS

TABLE_COLUMNS = [
    ("environment", "Environment"),
    ("target", "Target"),
    ("version", "Version"),
    ("status", "Status"),
    ("deployed_by", "Deployed by"),
    ("deployed_at", "Deployed at"),
]


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def _table_context(request, project) -> dict:
    sort = request.GET.get("sort", "environment")
    if sort.lstrip("-") not in SORT_KEYS:
        sort = "environment"
    page = Paginator(deployment_rows(project=project, sort=sort), 10).get_page(request.GET.get("page"))
    return {"page": page, "sort": sort, "columns": TABLE_COLUMNS}


def project_deploy(request, slug):
    """The "Deploy cloud infrastructure" tab: the form and the deployments table."""
    project = project_for_user(request.user, slug)
    artifacts = list(project_artifacts(project))
    form = DeployForm(request.POST or None, project=project, artifacts=artifacts)
    if request.method == "POST":
        operation = request.POST.get("operation", Operation.APPLY)
        if form.is_valid():
            try:
                run = runs.run_start(project=project, user=request.user, operation=operation, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as error:
                messages.error(request, _error_text(error))
            else:
                return redirect(run)
    return render(
        request,
        "deployments/project_deploy.html",
        {
            "project": project,
            "tabs": PROJECT_TABS,
            "tab": "deploy",
            "form": form,
            "has_artifacts": bool(artifacts),
            "may_deploy": can_deploy(request.user, project),
            **_table_context(request, project),
        },
    )


def project_deployments(request, slug):
    project = project_for_user(request.user, slug)
    context = {"project": project, "tabs": PROJECT_TABS, "tab": "deployments", **_table_context(request, project)}
    if request.htmx:
        return render(request, "deployments/partials/deployments_table.html", context)
    return render(request, "deployments/project_deployments.html", context)


def _deployment(project, environment: str, target: str) -> Deployment | None:
    if target not in Target.values or not project.environments.filter(name=environment).exists():
        raise Http404("No such environment or target.")
    return Deployment.objects.filter(environment__project=project, environment__name=environment, target=target).first()


def _row_context(project, environment: str, target: str, deployment: Deployment | None) -> dict:
    """What the pages of one deployments-table row (history, state) show around their content."""
    return {
        "project": project,
        "tabs": PROJECT_TABS,
        "tab": "deployments",
        "environment": project.environments.get(name=environment),
        "target": target,
        "deployment": deployment,
    }


def deployment_history(request, slug, environment, target):
    project = project_for_user(request.user, slug)
    deployment = _deployment(project, environment, target)
    history = deployment.runs.select_related("artifact", "requested_by").order_by("-id") if deployment else []
    context = _row_context(project, environment, target, deployment)
    context.update(
        page=Paginator(history, 20).get_page(request.GET.get("page")), may_deploy=can_deploy(request.user, project)
    )
    return render(request, "deployments/deployment_history.html", context)


@require_POST
def deployment_redeploy(request, slug, environment, target):
    """Roll back (or forward) to a version from the history in one click."""
    project = project_for_user(request.user, slug)
    try:
        run = runs.run_start(
            project=project,
            environment=environment,
            target=target,
            version=request.POST.get("version", ""),
            operation=Operation.APPLY,
            user=request.user,
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _error_text(error))
        return redirect("deployment_history", slug=slug, environment=environment, target=target)
    return redirect(run)


def deployment_state(request, slug, environment, target):
    project = project_for_user(request.user, slug)
    deployment = _deployment(project, environment, target)
    versions = (
        StateVersion.objects.filter(deployment=deployment).select_related("run").defer("data").order_by("-id")
        if deployment
        else []
    )
    context = _row_context(project, environment, target, deployment)
    context["page"] = Paginator(versions, 25).get_page(request.GET.get("page"))
    return render(request, "deployments/deployment_state.html", context)


def state_version_download(request, slug, environment, target, version_id):
    if not request.user.is_superuser:
        raise PermissionDenied("Only admins can download Terraform state: it may hold secrets.")
    project = project_for_user(request.user, slug)
    version = get_object_or_404(
        StateVersion, pk=version_id, deployment__environment__project=project, deployment__environment__name=environment
    )
    response = HttpResponse(bytes(version.data), content_type="application/json")
    name = f"{version.deployment.environment.gcp_project_id}-{target}-serial-{version.serial}.tfstate"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
def deployment_force_unlock(request, slug, environment, target):
    if not request.user.is_superuser:
        raise PermissionDenied("Only admins can force-unlock a state.")
    project = project_for_user(request.user, slug)
    deployment = _deployment(project, environment, target)
    if deployment is not None:
        state_backend.state_force_unlock(deployment=deployment, user=request.user)
        messages.success(request, "The state lock was released. This was recorded in the audit trail.")
    return redirect("deployment_state", slug=slug, environment=environment, target=target)


def run_parts_shared(run) -> dict:
    """The changing parts of the run page that are the same for every viewer (read once, shared by live streams)."""
    return {
        "run": run,
        "project": run.deployment.environment.project,
        "transitions": list(run.transitions.all()),
        "queue_position": runs.queue_position(run),
        "run_ahead": run.deployment.active_run if run.status == RunStatus.QUEUED else None,
    }


def run_parts_context(run, user) -> dict:
    """What the changing parts of the run page show (page, polling and live stream alike)."""
    context = run_parts_shared(run)
    context["may_cancel"] = can_deploy(user, context["project"]) and not run.is_finished
    context["may_approve"] = runs.can_approve(user, run)
    return context


def run_detail(request, pk):
    run = run_for_user(request.user, pk)
    lines = log_lines_after(run=run, after=0, limit=5000)
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
    lines = log_lines_after(run=run, after=after, limit=2000)
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
        messages.error(request, _error_text(error))
    return redirect(run)


@require_POST
def run_approve(request, pk):
    return _run_action(request, pk, runs.run_approve, "Run #{run.pk} is approved and joins its queue.")


@require_POST
def run_cancel(request, pk):
    return _run_action(request, pk, runs.run_cancel, "Cancelling run #{run.pk}.")


def project_configuration(request, slug):
    """The "Configuration" tab: each environment's definition in a version (newest by default)."""
    project = project_for_user(request.user, slug)
    artifacts = list(project_artifacts(project))
    chosen = next(
        (a for a in artifacts if a.version == request.GET.get("version")), artifacts[0] if artifacts else None
    )
    deployed = {row.environment.name: row.version for row in deployment_rows(project=project)}
    sections = []
    if chosen is not None:
        kinds = chosen.manifest.get("environment_kinds", {})
        for env in project.environments.all():
            folder = f"infrastructure/{env.name}/"
            files = sorted(path for path in chosen.manifest.get("files", {}) if path.startswith(folder))
            source = f"{folder}main.yaml" if f"{folder}main.yaml" in files else None
            sections.append(
                {
                    "environment": env,
                    "kind": kinds.get(env.name, ""),
                    "deployed": deployed.get(env.name),
                    "files": files,
                    "view": artifact_file_view(artifact=chosen, path=source) if source else None,
                }
            )
    return render(
        request,
        "deployments/project_configuration.html",
        {"project": project, "tabs": PROJECT_TABS, "tab": "configuration", "artifacts": artifacts, "chosen": chosen,
         "sections": sections},
    )  # fmt: skip


def run_log_download(request, pk):
    """The whole log as Terraform printed it: its JSON lines, and Hangar's and init's text lines."""
    run = run_for_user(request.user, pk)
    lines = LogLine.objects.filter(run=run).order_by("seq").values_list("raw", "message").iterator(chunk_size=2000)
    body = ((json.dumps(raw, separators=(",", ":")) if raw is not None else message) + "\n" for raw, message in lines)
    response = StreamingHttpResponse(body, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}.log"'
    return response


def operations(request):
    """For admins: how runs fare, what is stuck now, and adoption."""
    if not request.user.is_staff:
        raise PermissionDenied("The operations page is for Hangar's admins.")
    return render(request, "deployments/operations.html", operations_summary())
