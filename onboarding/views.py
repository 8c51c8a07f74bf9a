import secrets

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from onboarding import services
from onboarding.access import is_team_lead, project_for_user, visible_projects, visible_teams
from onboarding.forms import MemberForm, RegisterProjectForm, TeamForm
from onboarding.models import Project, Role
from onboarding.naming import ENVIRONMENTS, gcp_project_id
from onboarding.tabs import PROJECT_TABS
from tokens.selectors import project_token_context

WIZARD = "register_wizard"
WIZARD_DONE = "register_wizard_done"


def home(request):
    from deployments.runs.selectors import visible_runs  # deployments builds on onboarding, not the reverse

    projects = visible_projects(request.user).order_by("-created_at")[:8]
    recent_runs = visible_runs(request.user).select_related("deployment__environment").order_by("-id")[:10]
    return render(request, "home.html", {"projects": projects, "recent_runs": recent_runs})


def _registrable_teams(user):
    teams = visible_teams(user)
    if not user.is_superuser:
        teams = teams.filter(memberships__user=user, memberships__role__in=[Role.LEAD, Role.MEMBER])
    return teams.distinct().order_by("name")


def register_details(request):
    """Wizard step 1: Service Control ID, project name and team."""
    teams = _registrable_teams(request.user)
    state = request.session.get(WIZARD, {})
    if request.method == "POST":
        form = RegisterProjectForm(request.POST, teams=teams, user=request.user)
        if form.is_valid():
            request.session[WIZARD] = {
                "service_control_id": form.cleaned_data["service_control_id"],
                "name": form.cleaned_data["name"],
                "team": form.cleaned_data["team"].slug,
                "token": state.get("token") or secrets.token_urlsafe(16),
            }
            return redirect("register_confirm")
    else:
        form = RegisterProjectForm(initial=state, teams=teams, user=request.user)
    return render(request, "onboarding/register_details.html", {"form": form, "step": 1, "has_teams": teams.exists()})


def register_confirm(request):
    """Wizard step 2: show exactly what will be created; POST creates it."""
    state = request.session.get(WIZARD)
    done = request.session.get(WIZARD_DONE, {})
    if request.method == "POST":
        token = request.POST.get("token", "")
        if token in done:
            # A second submit of the same confirmation (double click, back + resubmit) creates nothing.
            return redirect("register_summary", slug=done[token])
        if not state or state.get("token") != token:
            messages.warning(request, "That confirmation has expired; please check the details again.")
            return redirect("register_details")
    if not state:
        return redirect("register_details")
    teams = _registrable_teams(request.user)
    team = teams.filter(slug=state["team"]).first()
    if team is None:
        messages.error(request, "You can no longer register projects for that team; choose another.")
        return redirect("register_details")
    scid, name = state["service_control_id"], state["name"]
    if request.method == "POST":
        try:
            project = services.project_register(service_control_id=scid, name=name, team=team, user=request.user)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
            return redirect("register_details")
        done[state["token"]] = project.slug
        request.session[WIZARD_DONE] = done
        del request.session[WIZARD]
        return redirect("register_summary", slug=project.slug)
    environments = [(env, gcp_project_id(scid, name, env)) for env in ENVIRONMENTS]
    return render(
        request,
        "onboarding/register_confirm.html",
        {"step": 2, "state": state, "team": team, "environments": environments, "slug": f"sc-{scid}-{name}"},
    )


def register_summary(request, slug):
    project = project_for_user(request.user, slug)
    return render(
        request,
        "onboarding/register_summary.html",
        {"step": 3, "project": project, "environments": project.environments.all()},
    )


def project_list(request):
    query = request.GET.get("q", "").strip()
    projects = visible_projects(request.user).annotate(environment_count=Count("environments"))
    if query:
        projects = projects.filter(Q(slug__icontains=query) | Q(name__icontains=query) | Q(team__name__icontains=query))
    page = Paginator(projects.order_by("service_control_id", "name"), 25).get_page(request.GET.get("page"))
    template = "onboarding/partials/project_table.html" if request.htmx else "onboarding/project_list.html"
    return render(request, template, {"page": page, "query": query})


def project_detail(request, slug, tab="overview"):
    if tab not in ("overview", "details"):
        raise Http404(f"No tab {tab!r}.")
    project = project_for_user(request.user, slug)
    context = {"project": project, "environments": project.environments.all(), "tabs": PROJECT_TABS, "tab": tab}
    context["is_lead"] = is_team_lead(request.user, project.team)
    if tab == "overview":
        from deployments.drift.selectors import drifted_deployments  # deployments builds on onboarding
        from onboarding.shared_composer.views import project_shared_context

        context["shared"] = project_shared_context(project, request.user)
        context["drifted"] = drifted_deployments(Project.objects.filter(pk=project.pk))
    if tab == "details":
        context.update(project_token_context(project))
    return render(request, f"onboarding/project_{tab}.html", context)


def team_list(request):
    teams = visible_teams(request.user).annotate(
        member_count=Count("memberships", distinct=True), project_count=Count("projects", distinct=True)
    )
    return render(request, "onboarding/team_list.html", {"teams": teams})


def team_create(request):
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(name=form.cleaned_data["name"], lead=request.user)
        except ValidationError as error:
            for message in error.message_dict.get("name", error.messages):
                form.add_error("name", message)
        else:
            messages.success(request, f"Team {team} created; you are its lead.")
            return redirect(team)
    return render(request, "onboarding/team_form.html", {"form": form})


def _team_for_user(user, slug):
    return get_object_or_404(visible_teams(user), slug=slug)


def team_detail(request, slug):
    team = _team_for_user(request.user, slug)
    return render(
        request,
        "onboarding/team_detail.html",
        {
            "team": team,
            "memberships": team.memberships.select_related("user"),
            "projects": team.projects.all(),
            "is_lead": is_team_lead(request.user, team),
            "member_form": MemberForm(),
        },
    )


@require_POST
def team_member_set(request, slug):
    team = _team_for_user(request.user, slug)
    form = MemberForm(request.POST)
    if form.is_valid():
        user = get_user_model().objects.filter(username=form.cleaned_data["username"]).first()
        if user is None:
            messages.error(request, f"No user named {form.cleaned_data['username']!r}; check the spelling.")
        else:
            try:
                services.team_set_member(team=team, user=user, role=form.cleaned_data["role"], by=request.user)
                messages.success(request, f"{user.username} is now {Role(form.cleaned_data['role']).label}.")
            except (PermissionDenied, ValidationError) as error:
                messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.error(request, "Give a username and a role.")
    return redirect(team)


@require_POST
def team_member_remove(request, slug, username):
    team = _team_for_user(request.user, slug)
    user = get_object_or_404(get_user_model(), username=username)
    try:
        services.team_remove_member(team=team, user=user, by=request.user)
        messages.success(request, f"{username} left {team}.")
    except (PermissionDenied, ValidationError) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    return redirect(team)


@require_POST
def project_prod_approval(request, slug):
    project = project_for_user(request.user, slug)
    required = request.POST.get("prod_requires_approval") == "on"
    try:
        services.project_set_prod_approval(project=project, required=required, user=request.user)
        state = "need a second team lead's approval" if required else "no longer need approval"
        messages.success(request, f"Production applies and destroys of {project} {state}.")
    except PermissionDenied as error:
        messages.error(request, str(error))
    return redirect("project_details", slug=slug)


@require_POST
def project_auto_apply(request, slug):
    """Team leads choose, per environment, whether plans that destroy nothing are applied without a confirmation."""
    project = project_for_user(request.user, slug)
    wanted = set(request.POST.getlist("auto_apply"))
    try:
        changed = [
            environment.label
            for environment in project.environments.all()
            if environment.auto_apply != (environment.name in wanted)
            and services.environment_set_auto_apply(
                environment=environment, auto_apply=environment.name in wanted, user=request.user
            )
        ]
        messages.success(request, f"Saved: {', '.join(changed)}." if changed else "Nothing changed.")
    except PermissionDenied as error:
        messages.error(request, str(error))
    return redirect("project_details", slug=slug)
