"""Pages of the Managed Shared Composer: the onboarding wizard, a change's progress, the shared
environment, offboarding, DAG deploys and the adoption figures. Logic lives in shared_composer.py."""

import secrets

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from onboarding.access import is_team_lead, project_for_user, visible_projects, visible_teams
from onboarding.forms import ProjectDetailsForm
from onboarding.models import Environment, Project, Role
from onboarding.naming import ENVIRONMENTS, gcp_project_id
from onboarding.shared_composer import adoption
from onboarding.shared_composer import services as shared
from onboarding.shared_composer.models import SharedChange, SharedMembership
from onboarding.shared_composer.uploads import DagUploadHandler, too_large
from portal.redirects import safe_next

WIZARD = "shared_wizard"
WIZARD_DONE = "shared_wizard_done"


def _errors(error) -> str:
    return " ".join(getattr(error, "messages", [str(error)]))


def _lead_teams(user):
    teams = visible_teams(user)
    if not user.is_superuser:
        teams = teams.filter(memberships__user=user, memberships__role=Role.LEAD)
    return teams.distinct().order_by("name")


class SharedOnboardForm(ProjectDetailsForm):
    """Step 1: the project (registered already, or registered on the way for one of the lead's teams)."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, teams=_lead_teams(user), **kwargs)
        self.user = user
        self.fields["team"].required = False
        self.fields["team"].empty_label = "—"
        self.fields["team"].help_text = "Only needed when the project is not registered in Hangar yet."
        self.project = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        project = Project.objects.select_related("team").filter(
            service_control_id=data["service_control_id"], name=data["name"]
        )
        project = project.first()
        slug = f"sc-{data['service_control_id']}-{data['name']}"
        if project is not None:
            if not visible_projects(self.user).filter(pk=project.pk).exists():
                raise forms.ValidationError(
                    f"{slug} is registered for a team you are not in; ask one of its leads to onboard it."
                )
            refusal = shared.onboarding_refusal(project=project, user=self.user)
            if refusal:
                raise forms.ValidationError(refusal)
            self.project = project
        elif data.get("team") is None:
            self.add_error(
                "team",
                f"{slug} is not registered in Hangar yet. Choose the team to register it for "
                "(one you lead), and Hangar registers it on the way.",
            )
        return data


def shared_onboard_details(request):
    """Wizard step 1: Service Control ID and project name (the seed's form)."""
    state = request.session.get(WIZARD, {})
    initial = dict(state)
    if request.method == "GET" and request.GET.get("project"):
        project = project_for_user(request.user, request.GET["project"])
        initial = {"service_control_id": project.service_control_id, "name": project.name}
    if request.method == "POST":
        form = SharedOnboardForm(request.POST, user=request.user)
        if form.is_valid():
            team = form.project.team if form.project else form.cleaned_data["team"]
            request.session[WIZARD] = {
                "service_control_id": form.cleaned_data["service_control_id"],
                "name": form.cleaned_data["name"],
                "team": team.slug,
                "registered": form.project is not None,
                "token": state.get("token") or secrets.token_urlsafe(16),
            }
            return redirect("shared_onboard_confirm")
    else:
        form = SharedOnboardForm(initial=initial, user=request.user)
    return render(request, "onboarding/shared/onboard_details.html", {"form": form, "step": 1})


def shared_onboard_confirm(request):
    """Wizard step 2: exactly what will be granted per stage; POST onboards (registering first if needed)."""
    state = request.session.get(WIZARD)
    done = request.session.get(WIZARD_DONE, {})
    if request.method == "POST":
        token = request.POST.get("token", "")
        if token in done:
            return redirect("shared_change", pk=done[token])
        if not state or state.get("token") != token:
            messages.warning(request, "That confirmation has expired; please check the details again.")
            return redirect("shared_onboard_details")
    if not state:
        return redirect("shared_onboard_details")
    scid, name = state["service_control_id"], state["name"]
    project = visible_projects(request.user).filter(service_control_id=scid, name=name).first()
    team = project.team if project else _lead_teams(request.user).filter(slug=state["team"]).first()
    if team is None or (state["registered"] and project is None):
        messages.error(request, "You can no longer onboard that project; check the details again.")
        return redirect("shared_onboard_details")
    if request.method == "POST":
        try:
            if project is None:
                from onboarding.services import project_register

                project = project_register(service_control_id=scid, name=name, team=team, user=request.user)
                messages.success(request, f"Project {project.slug} is registered for team {team}.")
            change = shared.shared_onboard(project=project, user=request.user)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, _errors(error))
            return redirect("shared_onboard_details")
        done[state["token"]] = change.pk
        request.session[WIZARD_DONE] = done
        del request.session[WIZARD]
        return redirect("shared_change", pk=change.pk)
    candidate = project or Project(service_control_id=scid, name=name, slug=f"sc-{scid}-{name}", team=team)
    return render(
        request,
        "onboarding/shared/onboard_confirm.html",
        {
            "step": 2,
            "state": state,
            "project": candidate,
            "registered": project is not None,
            "environments": [(env, gcp_project_id(scid, name, env)) for env in ENVIRONMENTS],
            "grants": shared.planned_grants(project=candidate),
            "policy": settings.SHARED_COMPOSER_PROMOTION,
            "platform_slug": shared.platform_slug(),
        },
    )


def _change_for_user(user, pk) -> SharedChange:
    change = get_object_or_404(SharedChange.objects.select_related("membership__project__team", "artifact"), pk=pk)
    platform = Project.objects.filter(slug=shared.platform_slug()).first()
    project = change.membership.project
    if not (shared.can_see_all_members(user, platform) or visible_projects(user).filter(pk=project.pk).exists()):
        raise Http404("No such change.")
    return change


def _runs_context(request, change):
    platform = change.artifact.project if change.artifact else None
    runs = {run.deployment.environment.name: run for run in shared.change_runs(change)}
    return {
        "change": change,
        "stages": [(stage, runs.get(stage)) for stage in shared.STAGES],
        "settled": shared.change_is_settled(change),
        "can_approve": platform is not None and shared.can_approve(request.user, platform),
        "policy": settings.SHARED_COMPOSER_PROMOTION,
    }


def shared_change(request, pk):
    """Wizard step 3 (for an onboarding): the change's runs, followed live, then the DAG snippet."""
    change = _change_for_user(request.user, pk)
    project = change.membership.project
    return render(
        request,
        "onboarding/shared/change.html",
        {
            **_runs_context(request, change),
            "step": 3,
            "project": project,
            "grants": shared.planned_grants(project=project, created_accounts=change.membership.created_accounts),
            "snippet": shared.dag_snippet(project),
        },
    )


def shared_change_runs(request, pk):
    """The runs table of a change, polled by htmx until nothing more happens on its own."""
    change = _change_for_user(request.user, pk)
    return render(request, "onboarding/shared/partials/change_runs.html", _runs_context(request, change))


@require_POST
def shared_change_approve(request, pk):
    change = _change_for_user(request.user, pk)
    try:
        shared.shared_approve(change=change, user=request.user)
        messages.success(request, f"Promotion of {change.version} approved.")
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _errors(error))
    return redirect(safe_next(request, change.get_absolute_url()))


@require_POST
def shared_offboard(request, slug):
    project = project_for_user(request.user, slug)
    try:
        change = shared.shared_offboard(project=project, user=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _errors(error))
        return redirect(project)
    messages.success(request, f"{project} is leaving the shared Airflow; its grants are being removed.")
    return redirect(change)


@csrf_exempt  # checked by _dags_deploy, once the upload handler is in place (Django's documented pattern)
@require_POST
def shared_dags_deploy(request, slug):
    """A member's DAG upload: who may deploy is checked before the body is read, and the files are
    read within SHARED_COMPOSER_DAG_LIMIT / SHARED_COMPOSER_DAG_MAX_BYTES while they stream in."""
    project = project_for_user(request.user, slug)
    max_files, max_bytes = settings.SHARED_COMPOSER_DAG_LIMIT, settings.SHARED_COMPOSER_DAG_MAX_BYTES
    try:
        shared.shared_dags_membership(project=project, user=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _errors(error))
        return redirect(project)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if too_large(length, max_files=max_files, max_bytes=max_bytes):
        messages.error(
            request,
            f"The upload is {length} bytes; a member may have at most {max_bytes} bytes of DAGs. Nothing changed.",
        )
        return redirect(project)
    handler = DagUploadHandler(request, field="dags", max_files=max_files, max_bytes=max_bytes)
    request.upload_handlers = [handler]
    return _dags_deploy(request, project, handler)


@csrf_protect
def _dags_deploy(request, project, handler: DagUploadHandler):
    uploads = request.FILES.getlist("dags")
    if handler.problem:
        messages.error(request, f"{handler.problem} Nothing changed.")
        return redirect(project)
    files = {upload.name: upload.read() for upload in uploads}
    try:
        deploy = shared.shared_dags_deploy(
            project=project, user=request.user, stage=request.POST.get("stage", ""), files=files
        )
        messages.success(request, f"{deploy.file_count} DAG file(s) deployed to {deploy.stage}.")
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _errors(error))
    return redirect(project)


def shared_environment(request):
    """The shared environment: its stages, members (those the user may see) and their changes."""
    platform = Project.objects.select_related("team").filter(slug=shared.platform_slug()).first()
    see_all = shared.can_see_all_members(request.user, platform)
    memberships = SharedMembership.objects.select_related("project__team", "requested_by", "left_by")
    if not see_all:
        memberships = memberships.filter(project__in=visible_projects(request.user))
    current = [m for m in memberships if m.is_current]
    hidden = 0
    if not see_all:
        hidden = SharedMembership.objects.exclude(state=SharedMembership.State.LEFT).count() - len(current)
    changes = SharedChange.objects.select_related("membership__project", "requested_by").filter(
        membership__in=memberships
    )[:30]
    rows = [(change, shared.change_runs(change)) for change in changes]
    stages = []
    if platform is not None:
        for env in Environment.objects.filter(project=platform):
            stages.append((env, shared.scheduler_email(env.name), shared.dag_bucket(env.name)))
    return render(
        request,
        "onboarding/shared/environment.html",
        {
            "platform": platform,
            "platform_visible": platform is not None and visible_projects(request.user).filter(pk=platform.pk).exists(),
            "stages": stages,
            "current": current,
            "history": [m for m in memberships if not m.is_current][:30],
            "hidden": hidden,
            "rows": rows,
            "see_all": see_all,
            "policy": settings.SHARED_COMPOSER_PROMOTION,
            "dag_limit": settings.SHARED_COMPOSER_DAG_LIMIT,
            "can_approve": platform is not None and shared.can_approve(request.user, platform),
        },
    )


def shared_adoption(request):
    """Adoption figures for admins: members over time, production DAGs, savings (from Hangar's records)."""
    if not (request.user.is_staff or request.user.is_superuser):
        raise Http404("No such page.")
    return render(request, "onboarding/shared/adoption.html", adoption.adoption_context())


def project_shared_context(project, user) -> dict:
    """The Overview tab's "Shared Airflow" section."""
    membership = shared.current_membership(project)
    history = list(project.shared_memberships.all()[:10])
    last_change = membership.changes.first() if membership else None
    context = {
        "membership": membership,
        "history": history,
        "last_change": last_change,
        "can_manage": is_team_lead(user, project.team) and not shared.is_platform_project(project),
        "is_platform": shared.is_platform_project(project),
        "dag_folder": shared.dag_prefix(project),
        "stages": shared.STAGES,
    }
    if membership is not None:
        context["grants"] = shared.planned_grants(project=project, created_accounts=membership.created_accounts)
        context["deploys"] = list(membership.dag_deploys.all()[:5])
    return context
