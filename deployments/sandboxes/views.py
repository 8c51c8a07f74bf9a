"""The project's Sandboxes tab: create one, see each with its owner, version, status and expiry; extend, destroy.

Thin: parse, call a service, render."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from deployments.artifacts.selectors import project_artifacts
from deployments.errors import error_text
from deployments.sandboxes import services
from deployments.sandboxes.selectors import project_sandboxes, sandbox_for_project, sandbox_views
from onboarding.access import can_deploy, is_team_lead, project_for_user
from onboarding.naming import ENVIRONMENT_LABELS, ENVIRONMENTS
from onboarding.tabs import PROJECT_TABS


class SandboxForm(forms.Form):
    version = forms.ChoiceField(help_text="Newest first.")
    base_environment = forms.ChoiceField(
        label="Definition", choices=[(env, ENVIRONMENT_LABELS[env]) for env in ENVIRONMENTS], initial="dev",
        help_text="Whose infrastructure/<env>/ definition the sandbox deploys.",
    )  # fmt: skip
    ttl_hours = forms.FloatField(label="Lifetime (hours)", min_value=0.01)

    def __init__(self, *args, artifacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [(a.version, a.version) for a in artifacts]
        self.fields["ttl_hours"].initial = settings.SANDBOX_DEFAULT_TTL / 3600
        self.fields["ttl_hours"].max_value = settings.SANDBOX_MAX_TTL / 3600
        self.fields["ttl_hours"].widget.attrs.update(max=f"{settings.SANDBOX_MAX_TTL / 3600:g}", step="any")


def project_sandboxes_page(request, slug):
    project = project_for_user(request.user, slug)
    artifacts = list(project_artifacts(project))
    form = SandboxForm(request.POST or None, artifacts=artifacts)
    if request.method == "POST" and form.is_valid():
        try:
            sandbox = services.sandbox_create(project=project, user=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, error_text(error))
        else:
            messages.success(request, f"Sandbox {sandbox.name} is being created in {sandbox.gcp_project_id}.")
            return redirect(sandbox.create_run)
    views = sandbox_views(project_sandboxes(project))
    # Asked once, not per sandbox: the owner (while a lead or member), the team's leads and admins manage one.
    lead, deployer = is_team_lead(request.user, project.team), can_deploy(request.user, project)
    for view in views:
        view.may_manage = lead or (deployer and view.sandbox.owner_id == request.user.pk)
    return render(
        request,
        "deployments/project_sandboxes.html",
        {
            "project": project,
            "tabs": PROJECT_TABS,
            "tab": "sandboxes",
            "form": form,
            "may_create": can_deploy(request.user, project) and bool(artifacts),
            "live": [view for view in views if view.live],
            "destroyed": [view for view in views if not view.live][:20],
            "max_per_team": settings.SANDBOX_MAX_PER_TEAM,
            "max_hours": settings.SANDBOX_MAX_TTL / 3600,
        },
    )


@require_POST
def sandbox_extend(request, slug, pk):
    project = project_for_user(request.user, slug)
    sandbox = sandbox_for_project(project, pk)
    try:
        services.sandbox_extend(sandbox=sandbox, hours=request.POST.get("hours", ""), user=request.user)
        messages.success(request, f"Sandbox {sandbox.name} was extended by {request.POST.get('hours')} h.")
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, error_text(error))
    return redirect("project_sandboxes", slug=project.slug)


@require_POST
def sandbox_destroy(request, slug, pk):
    project = project_for_user(request.user, slug)
    sandbox = sandbox_for_project(project, pk)
    try:
        run = services.sandbox_destroy(sandbox=sandbox, user=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, error_text(error))
        return redirect("project_sandboxes", slug=project.slug)
    messages.success(request, f"Sandbox {sandbox.name} is being destroyed.")
    return redirect(run)
