"""The drift page of a deployments-table row: its Health, what changed outside Hangar, the ways out, the history.

Thin: parse, call a service, render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from deployments.drift import services
from deployments.drift.health import deployment_health
from deployments.drift.selectors import check_for_user, deployment_checks, pending_check
from deployments.errors import error_text
from deployments.pages.rows import row_context, row_deployment
from onboarding.access import can_deploy, is_team_lead, project_for_user


def deployment_drift(request, slug, environment, target):
    project = project_for_user(request.user, slug)
    deployment = row_deployment(project, environment, target)
    context = row_context(project, environment, target, deployment)
    if deployment is not None:
        deployment = (
            type(deployment)
            .objects.select_related("deployed_artifact", "deployed_run", "last_run", "last_drift_check")
            .get(pk=deployment.pk)
        )
    shown = None
    if deployment is not None and request.GET.get("check", "").isdigit():
        shown = check_for_user(request.user, int(request.GET["check"]))
        if shown.deployment_id != deployment.pk:
            raise Http404("That check is of another deployment.")
    elif deployment is not None:
        shown = deployment.last_drift_check
    pending = pending_check(deployment) if deployment else None
    checks = deployment_checks(deployment) if deployment else []
    context.update(
        deployment=deployment,
        health=deployment_health(deployment),
        shown=shown,
        pending=pending,
        page=Paginator(checks, 20).get_page(request.GET.get("page")),
        may_check=can_deploy(request.user, project),
        may_accept=is_team_lead(request.user, project.team),
    )
    if request.htmx and request.GET.get("part") == "pending":
        response = render(request, "deployments/partials/drift_pending.html", context)
        if pending is None:
            response["HX-Refresh"] = "true"  # the check is done: show its result
        return response
    return render(request, "deployments/deployment_drift.html", context)


@require_POST
def deployment_drift_check(request, slug, environment, target):
    """Check now."""
    project = project_for_user(request.user, slug)
    deployment = row_deployment(project, environment, target)
    try:
        if deployment is None:
            raise ValidationError(services.nothing_deployed(environment, target))
        services.drift_check_start(deployment=deployment, user=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, "Checking for drift now; this page shows the result when it is in.")
    return redirect("deployment_drift", slug=slug, environment=environment, target=target)
