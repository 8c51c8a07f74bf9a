"""Who may see and change what. Pages, API views and tasks all ask here.

A project is visible to the members of its team (any role) and to superusers;
everyone else gets a 404, so the existence of other teams' projects leaks
nowhere.

A project CI token (`tokens`) acts as a service account of exactly one project, with the role
member or viewer: it is never a team member, so team roles never reach it, and it sees and may
change its own project only."""

from django.db.models import Q, QuerySet
from django.http import Http404

from onboarding.models import Membership, Project, Role, Team
from tokens.models import ApiToken, Kind

_UNKNOWN = object()
# Where a user object keeps the project CI token it acts through (None for a person). The token
# authentication sets it; elsewhere (a run's requester on a worker) it is read once per object.
CI_TOKEN_ATTRIBUTE = "_hangar_ci_token"


def ci_token_of(user) -> ApiToken | None:
    """The project CI token this service account acts through, or None for a person."""
    cached = getattr(user, CI_TOKEN_ATTRIBUTE, _UNKNOWN)
    if cached is _UNKNOWN:
        cached = None
        if getattr(user, "is_authenticated", False) and not user.is_superuser:
            cached = ApiToken.objects.filter(user_id=user.pk, kind=Kind.PROJECT).select_related("project__team").first()
        setattr(user, CI_TOKEN_ATTRIBUTE, cached)
    return cached


def _ci_role(user, project: Project) -> str | None:
    token = ci_token_of(user)
    return token.role if token is not None and token.project_id == project.pk else None


def visible_projects(user) -> QuerySet[Project]:
    projects = Project.objects.select_related("team")
    if user.is_superuser:
        return projects
    known = getattr(user, CI_TOKEN_ATTRIBUTE, _UNKNOWN)
    if known is not _UNKNOWN:
        return (
            projects.filter(pk=known.project_id) if known is not None else projects.filter(team__memberships__user=user)
        )
    # Not known yet whether this is a person or a CI token's service account: either, in one query.
    return projects.filter(
        Q(team_id__in=Membership.objects.filter(user_id=user.pk).values("team_id"))
        | Q(pk__in=ApiToken.objects.filter(user_id=user.pk, kind=Kind.PROJECT).values("project_id"))
    )


def visible_teams(user) -> QuerySet[Team]:
    if user.is_superuser:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user)


def project_for_user(user, slug: str) -> Project:
    """The project with this slug if the user may see it, else 404."""
    try:
        return visible_projects(user).get(slug=slug)
    except Project.DoesNotExist:
        raise Http404(f"No project {slug!r}.") from None


def role_in_team(user, team: Team) -> str | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(team=team, user=user).values_list("role", flat=True).first()


def can_register_in(user, team: Team) -> bool:
    """Leads and members register projects for their team; viewers only watch."""
    return user.is_superuser or role_in_team(user, team) in (Role.LEAD, Role.MEMBER)


def can_deploy(user, project: Project) -> bool:
    if user.is_superuser:
        return True
    role = role_in_team(user, project.team)
    return role in (Role.LEAD, Role.MEMBER) or (role is None and _ci_role(user, project) == Role.MEMBER)


def is_team_lead(user, team: Team) -> bool:
    return user.is_superuser or role_in_team(user, team) == Role.LEAD


def deploy_rights(user, project: Project) -> tuple[bool, bool]:
    """(may deploy the project, is a lead of its team), read once: what a page's deploy buttons depend on."""
    if user.is_superuser:
        return True, True
    role = role_in_team(user, project.team)
    if role is None:
        role = _ci_role(user, project)  # a CI token is never a lead
    return role in (Role.LEAD, Role.MEMBER), role == Role.LEAD
