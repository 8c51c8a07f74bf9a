"""Writes for teams and projects. Views, API, commands and tests call these."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from onboarding.access import can_register_in, ci_token_of, is_team_lead, role_in_team
from onboarding.models import Environment, Membership, Project, Role, Team
from onboarding.naming import (
    ENVIRONMENTS,
    MANUAL_APPLY_ENVIRONMENTS,
    gcp_project_id,
    normalise_service_control_id,
    project_slug,
    validate_project_identity,
    validate_project_name,
)
from onboarding.reserved import platform_team_slug, project_refusal, team_name_refusal
from portal.audit import audit_record


class ProjectAlreadyRegistered(ValidationError):
    def __init__(self, slug: str):
        super().__init__(
            f"{slug} is already registered in Hangar. Ask its team for access, or choose another name.",
            code="already_registered",
        )
        self.slug = slug


def team_create(*, name: str, lead) -> Team:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Enter a team name."})
    slug = slugify(name)
    if not slug:
        raise ValidationError({"name": f"{name!r} has no letters or digits; a team name needs some."})
    refusal = team_name_refusal(name)
    if refusal:
        raise ValidationError({"name": refusal})
    if Team.objects.filter(slug=slug).exists() or Team.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"A team named {name!r} exists already; pick another name."})
    try:
        with transaction.atomic():
            team = Team.objects.create(name=name, slug=slug)
            Membership.objects.create(team=team, user=lead, role=Role.LEAD)
            audit_record(actor=lead, action="team.create", obj=team, name=name)
    except IntegrityError:
        raise ValidationError({"name": f"A team named {name!r} exists already; pick another name."}) from None
    return team


def team_set_member(*, team: Team, user, role: str, by) -> Membership:
    if not is_team_lead(by, team):
        raise PermissionDenied("Only a lead of this team can change its members.")
    if role not in Role.values:
        raise ValidationError({"role": f"{role!r} is not a role; use one of: {', '.join(Role.values)}."})
    if ci_token_of(user) is not None:
        # A team role would reach every project of the team; a CI token reaches its own project only.
        raise ValidationError(
            {"username": f"{user.username} is a project CI token, not a person; it cannot join a team."}
        )
    if role == Role.LEAD and team.slug == platform_team_slug() and role_in_team(by, team) != Role.LEAD:
        # Not even an admin: the platform team deploys into every member project of the shared Airflow.
        raise PermissionDenied(
            f"Leads of {team}, the shared Airflow's platform team, are named only by one of its leads "
            "or with manage.py setup_shared_composer --lead USERNAME."
        )
    with transaction.atomic():
        if role != Role.LEAD:
            _keep_a_lead(team, user)
        membership, created = Membership.objects.update_or_create(team=team, user=user, defaults={"role": role})
        audit_record(
            actor=by,
            action="team.member_add" if created else "team.member_role",
            obj=team,
            user=user.username,
            role=role,
        )
    return membership


def _keep_a_lead(team: Team, user) -> None:
    """Refuse a change that would leave the team without a lead (demoting or removing its last one).

    The team's lead rows are locked so two leads stepping down at once cannot both succeed."""
    leads = list(
        Membership.objects.select_for_update().filter(team=team, role=Role.LEAD).values_list("user_id", flat=True)
    )
    if leads == [user.pk]:
        raise ValidationError(
            f"{user.username} is the last lead of {team}, and a team keeps at least one lead; "
            "make someone else lead first.",
            code="last_lead",
        )


def team_remove_member(*, team: Team, user, by) -> None:
    if not is_team_lead(by, team):
        raise PermissionDenied("Only a lead of this team can change its members.")
    with transaction.atomic():
        membership = Membership.objects.filter(team=team, user=user).first()
        if membership is None:
            return
        _keep_a_lead(team, user)
        membership.delete()
        audit_record(actor=by, action="team.member_remove", obj=team, user=user.username)


def project_identity_clean(*, service_control_id: object, name: str) -> tuple[int, str, list[str]]:
    """Validate an ID + name pair; return the normalised pair and the environment ids.

    Raises ValidationError with a message per field."""
    errors: dict[str, list[ValidationError]] = {}
    scid = None
    try:
        scid = normalise_service_control_id(service_control_id)
    except ValidationError as error:
        errors["service_control_id"] = [error]
    name = (name or "").strip()
    try:
        validate_project_name(name)
    except ValidationError as error:
        errors["name"] = [error]
    if errors:
        raise ValidationError(errors)
    assert scid is not None
    try:
        ids = validate_project_identity(scid, name)
    except ValidationError as error:
        raise ValidationError({"name": [error]}) from None
    return scid, name, ids


def project_register(
    *, service_control_id: object, name: str, team: Team, user, allow_reserved: bool = False
) -> Project:
    """Create a project and its dev, test and prod environments, all or nothing.

    The shared Airflow's platform project is refused unless `allow_reserved` (Hangar creating it itself)."""
    scid, name, _ = project_identity_clean(service_control_id=service_control_id, name=name)
    refusal = None if allow_reserved else project_refusal(scid, name)
    if refusal:
        raise ValidationError({"name": refusal})
    if not can_register_in(user, team):
        raise PermissionDenied(f"You cannot register projects for {team}: only its leads and members can.")
    slug = project_slug(scid, name)
    try:
        with transaction.atomic():
            project = Project.objects.create(team=team, service_control_id=scid, name=name, slug=slug, created_by=user)
            Environment.objects.bulk_create(
                Environment(
                    project=project,
                    name=env,
                    gcp_project_id=gcp_project_id(scid, name, env),
                    position=i,
                    auto_apply=env not in MANUAL_APPLY_ENVIRONMENTS,
                )
                for i, env in enumerate(ENVIRONMENTS)
            )
            audit_record(actor=user, action="project.register", obj=project, team=team.slug)
    except IntegrityError:
        # The unique constraint, not a prior read, decides: concurrent submissions cannot both win.
        raise ProjectAlreadyRegistered(slug) from None
    return project


def environment_set_auto_apply(*, environment: Environment, auto_apply: bool, user) -> Environment:
    """Team leads decide whether an environment applies plans that destroy nothing without a confirmation."""
    project = environment.project
    if not is_team_lead(user, project.team):
        raise PermissionDenied(f"Only a lead of {project.team} can change how {environment} applies plans.")
    if not isinstance(auto_apply, bool):
        raise ValidationError({"auto_apply": "auto_apply is true or false."})
    if environment.auto_apply != auto_apply:
        with transaction.atomic():
            environment.auto_apply = auto_apply
            environment.save(update_fields=["auto_apply"])
            audit_record(actor=user, action="environment.auto_apply", obj=environment, auto_apply=auto_apply)
    return environment


def project_set_prod_approval(*, project: Project, required: bool, user) -> Project:
    """Team leads decide whether production applies and destroys need a second lead's approval."""
    if not is_team_lead(user, project.team):
        raise PermissionDenied(f"Only a lead of {project.team} can change how {project} deploys to production.")
    if project.prod_requires_approval != required:
        with transaction.atomic():
            project.prod_requires_approval = required
            project.save(update_fields=["prod_requires_approval"])
            audit_record(actor=user, action="project.prod_approval", obj=project, required=required)
    return project
