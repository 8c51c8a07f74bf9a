"""Who may see and change what. Pages, API views and tasks all ask here.

A project is visible to the members of its team (any role) and to superusers;
everyone else gets a 404, so the existence of other teams' projects leaks
nowhere."""

from django.db.models import QuerySet
from django.http import Http404

from onboarding.models import Membership, Project, Role, Team


def visible_projects(user) -> QuerySet[Project]:
    projects = Project.objects.select_related("team")
    if user.is_superuser:
        return projects
    return projects.filter(team__memberships__user=user)


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
    return user.is_superuser or role_in_team(user, project.team) in (Role.LEAD, Role.MEMBER)


def is_team_lead(user, team: Team) -> bool:
    return user.is_superuser or role_in_team(user, team) == Role.LEAD


def deploy_rights(user, project: Project) -> tuple[bool, bool]:
    """(may deploy the project, is a lead of its team), read once: what a page's deploy buttons depend on."""
    if user.is_superuser:
        return True, True
    role = role_in_team(user, project.team)
    return role in (Role.LEAD, Role.MEMBER), role == Role.LEAD
