"""The project's deployment tabs: Deploy, Deployments / History (with one-click redeploy) and Configuration.

Thin: parse, call a service, render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from deployments.artifacts.browse import artifact_file_view
from deployments.artifacts.selectors import project_artifacts
from deployments.errors import error_text
from deployments.pages.forms import DeployForm
from deployments.pages.rows import row_context, row_deployment
from deployments.pages.selectors import SORT_KEYS, deploy_versions, deployment_rows
from deployments.plans.selectors import latest_speculative_plans
from deployments.runs import services as runs
from deployments.runs.choices import Operation
from onboarding.access import can_deploy, deploy_rights, is_team_lead, project_for_user
from onboarding.tabs import PROJECT_TABS

TABLE_COLUMNS = [
    ("environment", "Environment"),
    ("target", "Target"),
    ("version", "Version"),
    ("deployed_by", "Deployed by"),
    ("deployed_at", "Deployed at"),
    ("last_run", "Last run"),
    ("health", "Health"),
]


def _sort(request) -> str:
    sort = request.GET.get("sort", "environment")
    return sort if sort.lstrip("-") in SORT_KEYS else "environment"


def _table_context(request, project, rows=None) -> dict:
    sort = _sort(request)
    rows = deployment_rows(project=project, sort=sort) if rows is None else rows
    page = Paginator(rows, 10).get_page(request.GET.get("page"))
    return {"page": page, "sort": sort, "columns": TABLE_COLUMNS}


def project_deploy(request, slug):
    """The "Deploy cloud infrastructure" tab: the form and the deployments table."""
    project = project_for_user(request.user, slug)
    artifacts = list(deploy_versions(project))
    rows = deployment_rows(project=project, sort=_sort(request))
    form = DeployForm(
        request.POST or None, project=project, artifacts=artifacts, rows=rows, version=request.GET.get("version")
    )
    if request.method == "POST":
        operation = request.POST.get("operation", Operation.APPLY)
        if form.is_valid():
            try:
                run = runs.run_start(project=project, user=request.user, operation=operation, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as error:
                messages.error(request, error_text(error))
            else:
                return redirect(run)
    speculative_artifact, speculative_plans = latest_speculative_plans(project)
    may_deploy, is_lead = deploy_rights(request.user, project)
    return render(
        request,
        "deployments/project_deploy.html",
        {
            "project": project,
            "tabs": PROJECT_TABS,
            "tab": "deploy",
            "form": form,
            "has_artifacts": bool(artifacts),
            "may_deploy": may_deploy,
            "may_accept_reality": is_lead,
            "speculative_artifact": speculative_artifact,
            "speculative_plans": speculative_plans,
            **_table_context(request, project, rows),
        },
    )


def project_deployments(request, slug):
    project = project_for_user(request.user, slug)
    context = {"project": project, "tabs": PROJECT_TABS, "tab": "deployments", **_table_context(request, project)}
    if request.htmx:
        return render(request, "deployments/partials/deployments_table.html", context)
    return render(request, "deployments/project_deployments.html", context)


def deployment_history(request, slug, environment, target):
    project = project_for_user(request.user, slug)
    deployment = row_deployment(project, environment, target)
    history = deployment.runs.select_related("artifact", "requested_by").order_by("-id") if deployment else []
    context = row_context(project, environment, target, deployment)
    may_deploy, is_lead = deploy_rights(request.user, project)
    context.update(
        page=Paginator(history, 20).get_page(request.GET.get("page")),
        may_deploy=may_deploy,
        may_accept_reality=is_lead and deployment is not None and deployment.deployed_artifact is not None,
    )
    return render(request, "deployments/deployment_history.html", context)


def _start_from_history(request, slug, environment, target, operation: str):
    """Start a run of the posted version on this row, and follow it (or come back saying why not)."""
    project = project_for_user(request.user, slug)
    deployment = row_deployment(project, environment, target)
    try:
        if deployment is not None and deployment.environment.is_sandbox:
            run = _sandbox_run(project, deployment, request.user, operation)
        else:
            run = runs.run_start(
                project=project,
                environment=environment,
                target=target,
                version=request.POST.get("version", ""),
                operation=operation,
                user=request.user,
            )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, error_text(error))
        return redirect("deployment_history", slug=slug, environment=environment, target=target)
    return redirect(run)


@require_POST
def deployment_redeploy(request, slug, environment, target):
    """Roll back (or forward) to a version from the history in one click."""
    return _start_from_history(request, slug, environment, target, Operation.APPLY)


@require_POST
def deployment_accept_reality(request, slug, environment, target):
    """A lead lets the state take what really exists (drift): a refresh run of the deployed version."""
    return _start_from_history(request, slug, environment, target, Operation.REFRESH)


def _sandbox_run(project, deployment, user, operation: str):
    """A sandbox runs the one version it was made from: Reconcile (the drift page) applies that again, and
    Accept reality (leads) refreshes it."""
    if not can_deploy(user, project):
        raise PermissionDenied(f"Only members of {project.team} can deploy {project}.")
    if operation == Operation.REFRESH and not is_team_lead(user, project.team):
        raise PermissionDenied(f"Only a lead of {project.team} can accept reality on {project}.")
    if deployment.deployed_artifact is None:
        raise ValidationError(f"Nothing is deployed in sandbox {deployment.environment.name}.")
    return runs.run_queue(
        environment=deployment.environment,
        target=deployment.target,
        version=deployment.deployed_artifact.version,
        operation=operation,
        user=user,
    )


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
