"""The Managed Shared Composer: projects join one Airflow environment per stage run by the platform team.

The shared environment is an ordinary Hangar project of the platform team. Its definition is generated
from the memberships (`shared_definition`), built into a new artifact version, uploaded and deployed
like any project's: dev first, then test and prod as `SHARED_COMPOSER_PROMOTION` says. Views, commands
and the `run_finished` receiver call these functions. See docs/shared-composer.md."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from onboarding import reserved
from onboarding.access import is_team_lead, role_in_team
from onboarding.models import Membership, Project, Role, Team
from onboarding.naming import ENVIRONMENTS, gcp_project_id
from onboarding.shared_composer.models import SharedChange, SharedDagDeploy, SharedMembership
from onboarding.shared_composer.signals import shared_change_finished
from portal.audit import audit_record

STAGES = tuple(ENVIRONMENTS)  # dev, test, prod: the order changes are promoted in
SYSTEM_USERNAME = "hangar-shared-composer"
COMPOSER_USER_ROLE = "roles/composer.user"
TOKEN_CREATOR_ROLE = "roles/iam.serviceAccountTokenCreator"
DAG_OBJECT_ROLE = "roles/storage.objectAdmin"
DAG_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}\.py$")
CURRENT = (SharedMembership.State.JOINING, SharedMembership.State.ACTIVE, SharedMembership.State.LEAVING)
WANTED = (SharedMembership.State.JOINING, SharedMembership.State.ACTIVE)


# -- names ------------------------------------------------------------------------------------------
# The platform's own runs apply their plans at once, removals of members' grants included: the promotion
# policy (SHARED_COMPOSER_PROMOTION) is their gate, and offboarding a member means removing its grants.
PLATFORM_RUN = {"apply_automatically": True, "confirm_destroy": True}


def platform_slug() -> str:
    return reserved.platform_project_slug()


def composer_name() -> str:
    return settings.SHARED_COMPOSER_NAME


def platform_project_id(stage: str) -> str:
    return gcp_project_id(settings.SHARED_COMPOSER_SERVICE_CONTROL_ID, settings.SHARED_COMPOSER_NAME, stage)


def scheduler_email(stage: str) -> str:
    return f"{settings.SHARED_COMPOSER_SCHEDULER_ACCOUNT}@{platform_project_id(stage)}.iam.gserviceaccount.com"


def team_group(team: Team) -> str:
    """The team's group e-mail: it gets the DAG folder and the Composer User role."""
    return f"{team.slug}@{settings.SHARED_COMPOSER_GROUP_DOMAIN}"


def compute_account_email(project: Project, stage: str) -> str:
    return f"{settings.SHARED_COMPOSER_COMPUTE_ACCOUNT}@{project.slug}-{stage}.iam.gserviceaccount.com"


def dag_prefix(project: Project) -> str:
    return f"dags/{project.slug}/"


def is_platform_project(project: Project) -> bool:
    return project.slug == platform_slug()


def member_project_ids(*, stage: str) -> list[str]:
    """Member projects (their `stage` environment's ids) whose grants the platform project's runs in
    `stage` manage: current members, and those that left while their grants in `stage` have not been
    removed yet (no successful apply there of their offboarding version or a later one). Runs of the
    platform project get these into their local cloud token's scope."""
    from deployments.runs.models import Run
    from onboarding.models import Environment

    projects = []
    for membership in SharedMembership.objects.select_related("project"):
        if membership.state == SharedMembership.State.LEFT:
            offboard = (
                membership.changes.filter(kind=SharedChange.Kind.OFFBOARD, artifact__isnull=False)
                .order_by("-id")
                .first()
            )
            removed = (
                offboard is None
                or Run.objects.filter(
                    deployment__environment__project__slug=platform_slug(),
                    deployment__environment__name=stage,
                    operation="apply",
                    status="succeeded",
                    artifact_id__gte=offboard.artifact_id,
                ).exists()
            )
            if removed:
                continue
        projects.append(membership.project_id)
    ids = Environment.objects.filter(project_id__in=projects, name=stage).values_list("gcp_project_id", flat=True)
    return sorted(ids)


# -- the platform project ---------------------------------------------------------------------------
def system_user():
    """The account Hangar acts as on the platform project (uploads, runs); it cannot log in."""
    user, created = get_user_model().objects.get_or_create(username=SYSTEM_USERNAME, defaults={"is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def shared_platform_project(*, lead=None) -> Project:
    """The platform team's project that holds the shared environment.

    The reserved team and project are created by migration onboarding 0004; this creates them again
    when missing (a database flushed since, or SHARED_COMPOSER_* settings changed), idempotently. It
    never makes anyone a lead but `lead`, given only by `setup_shared_composer --lead` (audited)."""
    bot = system_user()
    project = Project.objects.select_related("team").filter(slug=platform_slug()).first()
    if project is not None:
        team = project.team
    else:
        slug = _team_slug()
        team = Team.objects.filter(slug=slug).first()
        if team is None:
            try:
                with transaction.atomic():
                    team = Team.objects.create(name=settings.SHARED_COMPOSER_TEAM, slug=slug)
                    audit_record(actor=bot, action="team.create", obj=team, name=team.name, reason="shared composer")
            except IntegrityError:
                team = Team.objects.get(slug=slug)
    _ensure_role(team, bot, Role.MEMBER)
    if lead is not None:
        _ensure_role(team, lead, Role.LEAD, via="manage.py setup_shared_composer --lead")
    if project is None:
        from onboarding.services import ProjectAlreadyRegistered, project_register

        try:
            project = project_register(
                service_control_id=settings.SHARED_COMPOSER_SERVICE_CONTROL_ID,
                name=settings.SHARED_COMPOSER_NAME,
                team=team,
                user=bot,
                allow_reserved=True,
            )
        except ProjectAlreadyRegistered:
            project = Project.objects.get(slug=platform_slug())
    return project


def _ensure_role(team: Team, user, role: str, **details) -> None:
    membership, created = Membership.objects.get_or_create(team=team, user=user, defaults={"role": role})
    if created or (role == Role.LEAD and membership.role != Role.LEAD):
        if not created:
            membership.role = role
            membership.save(update_fields=["role"])
        action = "team.member_add" if created else "team.member_role"
        audit_record(actor=system_user(), action=action, obj=team, user=user.username, role=role, **details)


def can_approve(user, platform: Project) -> bool:
    """Admins and leads of the platform team approve promotions."""
    return user.is_superuser or (user.username != SYSTEM_USERNAME and is_team_lead(user, platform.team))


def can_see_all_members(user, platform: Project | None) -> bool:
    return (
        user.is_superuser or user.is_staff or (platform is not None and role_in_team(user, platform.team) is not None)
    )


# -- the definition ---------------------------------------------------------------------------------
def _team_slug() -> str:
    return reserved.platform_team_slug()


def shared_definition(*, members: list[SharedMembership], team: str | None = None) -> dict[str, str]:
    """The platform project's source folder (path → text): hangar.yaml and one main.yaml per stage.

    `team` is the platform team's slug (default: the platform project's team)."""
    team_slug = team
    if team_slug is None:
        platform = Project.objects.filter(slug=platform_slug()).select_related("team").first()
        team_slug = platform.team.slug if platform is not None else _team_slug()
    files = {
        "hangar.yaml": yaml.safe_dump(
            {
                "service_control_id": settings.SHARED_COMPOSER_SERVICE_CONTROL_ID,
                "name": settings.SHARED_COMPOSER_NAME,
                "team": team_slug,
            },
            sort_keys=False,
        )
    }
    ordered = sorted(members, key=lambda m: m.project.slug)
    for stage in STAGES:
        entries = []
        for membership in ordered:
            entry = {
                "project": membership.project.slug,
                "project_id": f"{membership.project.slug}-{stage}",
                "group": team_group(membership.project.team),
                "service_account": settings.SHARED_COMPOSER_COMPUTE_ACCOUNT,
            }
            if stage in (membership.created_accounts or []):
                entry["create_service_account"] = True
            entries.append(entry)
        document = {
            "infrastructure": {
                "gcp": {
                    "composers": [
                        {
                            "name": composer_name(),
                            "env_variables": {"DEPLOY_ENV": stage},
                            "shared": {"scheduler": settings.SHARED_COMPOSER_SCHEDULER_ACCOUNT, "members": entries},
                        }
                    ],
                    "service_accounts": [
                        {
                            "name": settings.SHARED_COMPOSER_SCHEDULER_ACCOUNT,
                            "display_name": f"Runs the members' tasks in the shared composer {composer_name()}",
                            "impersonated_by": [f"composer:{composer_name()}"],
                        }
                    ],
                }
            }
        }
        header = (
            "# Generated by Hangar from the shared composer's members (docs/shared-composer.md).\n"
            "# Do not edit: onboard or offboard projects in Hangar instead.\n"
        )
        files[f"infrastructure/{stage}/main.yaml"] = header + yaml.safe_dump(document, sort_keys=False)
    return files


def next_version(platform: Project) -> str:
    from deployments.artifacts.models import Artifact

    latest = Artifact.objects.filter(project=platform).order_by("-version_key").first()
    if latest is None:
        return "0.1.0"
    major, minor, patch = (int(part) for part in latest.version.partition("-")[0].split("."))
    return f"{major}.{minor}.{patch + 1}"


def _build_and_deploy(*, platform: Project, change: SharedChange) -> None:
    """Generate the definition from the wanted members, build and upload the next version, start dev."""
    from deployments.artifacts.build import build_artifact
    from deployments.artifacts.services import artifact_upload
    from deployments.runs.services import run_start

    bot = system_user()
    members = list(SharedMembership.objects.filter(state__in=WANTED).select_related("project__team"))
    version = next_version(platform)
    with tempfile.TemporaryDirectory(prefix="hangar-shared-") as tmp:
        root = Path(tmp)
        for name, text in shared_definition(members=members, team=platform.team.slug).items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        built = build_artifact(source_dir=root, version=version, project_slug=platform.slug, builder=SYSTEM_USERNAME)
    artifact, _ = artifact_upload(project=platform, fileobj=BytesIO(built.content), user=bot)
    change.artifact, change.version = artifact, artifact.version
    change.save(update_fields=["artifact", "version"])
    run_start(
        project=platform,
        environment=STAGES[0],
        target="local",
        version=artifact.version,
        operation="apply",
        user=bot,
        **PLATFORM_RUN,
    )


def shared_deploy_definition(*, user=None):
    """Build the current definition as a new version and deploy it to dev, outside any membership change
    (the setup command's --deploy: the shared environment before its first member, or a re-sync)."""
    from deployments.artifacts.build import build_artifact
    from deployments.artifacts.services import artifact_upload
    from deployments.runs.services import run_start

    platform = shared_platform_project()
    bot = system_user()
    with transaction.atomic():
        Project.objects.select_for_update().get(pk=platform.pk)
        members = list(SharedMembership.objects.filter(state__in=WANTED).select_related("project__team"))
        with tempfile.TemporaryDirectory(prefix="hangar-shared-") as tmp:
            root = Path(tmp)
            for name, text in shared_definition(members=members, team=platform.team.slug).items():
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_text(text)
            built = build_artifact(
                source_dir=root, version=next_version(platform), project_slug=platform.slug, builder=SYSTEM_USERNAME
            )
        artifact, _ = artifact_upload(project=platform, fileobj=BytesIO(built.content), user=bot)
        run = run_start(
            project=platform, environment=STAGES[0], target="local", version=artifact.version, operation="apply",
            user=bot, **PLATFORM_RUN,
        )  # fmt: skip
        audit_record(actor=user or bot, action="shared_composer.deploy", obj=platform, version=artifact.version)
    return run


def _missing_accounts(project: Project) -> list[str]:
    """Stages in which the project's compute account does not exist yet (the shared definition creates it)."""
    from portal.localcloud import operator_client

    cloud = operator_client()
    account = settings.SHARED_COMPOSER_COMPUTE_ACCOUNT
    return [stage for stage in STAGES if cloud.get_service_account(f"{project.slug}-{stage}", account) is None]


# -- onboarding and offboarding ---------------------------------------------------------------------
def onboarding_refusal(*, project: Project, user) -> str | None:
    """Why `user` cannot onboard `project` now, in words; None when they can."""
    if not is_team_lead(user, project.team):
        return f"Only a lead of {project.team} (or an admin) can onboard {project} to the shared Airflow."
    if is_platform_project(project):
        return f"{project} is the shared environment itself; it cannot join it."
    if not project.team.memberships.filter(role=Role.LEAD).exists():
        return (
            f"Team {project.team} has no lead. A member project needs a lead who answers for its DAGs: "
            "make someone the team's lead first."
        )
    current = project.shared_memberships.filter(state__in=CURRENT).first()
    if current is not None:
        return f"{project} is already a member of the shared Airflow ({current.get_state_display().lower()})."
    return None


def shared_onboard(*, project: Project, user) -> SharedChange:
    """Make a project a member: grants in every stage, applied by a new version of the shared definition."""
    refusal = onboarding_refusal(project=project, user=user)
    if refusal and not is_team_lead(user, project.team):
        raise PermissionDenied(refusal)
    if refusal:
        raise ValidationError(refusal, code="refused")
    platform = shared_platform_project()
    missing = _missing_accounts(project)
    try:
        with transaction.atomic():
            # One change of the shared definition at a time: versions follow each other.
            Project.objects.select_for_update().get(pk=platform.pk)
            membership = SharedMembership.objects.create(project=project, requested_by=user, created_accounts=missing)
            change = SharedChange.objects.create(
                membership=membership, kind=SharedChange.Kind.ONBOARD, requested_by=user
            )
            _build_and_deploy(platform=platform, change=change)
            audit_record(
                actor=user,
                action="shared_composer.onboard",
                obj=project,
                version=change.version,
                created_accounts=missing,
            )
            audit_record(actor=user, action="shared_composer.onboard", obj=platform, member=project.slug)
    except IntegrityError:
        raise ValidationError(f"{project} is already a member of the shared Airflow.", code="refused") from None
    return change


def shared_offboard(*, project: Project, user) -> SharedChange:
    """Remove a project's grants in every stage, the same way they were given."""
    if not is_team_lead(user, project.team):
        raise PermissionDenied(f"Only a lead of {project.team} (or an admin) can offboard {project}.")
    platform = shared_platform_project()
    with transaction.atomic():
        Project.objects.select_for_update().get(pk=platform.pk)
        membership = project.shared_memberships.select_for_update().filter(state__in=WANTED).first()
        if membership is None:
            leaving = project.shared_memberships.filter(state=SharedMembership.State.LEAVING).exists()
            raise ValidationError(
                f"{project} is already leaving the shared Airflow."
                if leaving
                else f"{project} is not a member of the shared Airflow.",
                code="refused",
            )
        membership.state = SharedMembership.State.LEAVING
        membership.left_by = user
        membership.save(update_fields=["state", "left_by"])
        change = SharedChange.objects.create(membership=membership, kind=SharedChange.Kind.OFFBOARD, requested_by=user)
        _build_and_deploy(platform=platform, change=change)
        audit_record(actor=user, action="shared_composer.offboard", obj=project, version=change.version)
        audit_record(actor=user, action="shared_composer.offboard", obj=platform, member=project.slug)
    return change


def current_membership(project: Project) -> SharedMembership | None:
    return project.shared_memberships.filter(state__in=CURRENT).first()


# -- promotion --------------------------------------------------------------------------------------
def next_stage(stage: str) -> str | None:
    index = STAGES.index(stage)
    return STAGES[index + 1] if index + 1 < len(STAGES) else None


def _superseded(change: SharedChange, stage: str) -> SharedChange | None:
    """A newer change that has already been started in `stage` (its definition includes this one's)."""
    from deployments.runs.models import Run

    newer = SharedChange.objects.filter(id__gt=change.id, artifact__isnull=False)
    started = Run.objects.filter(
        artifact__in=newer.values("artifact"), deployment__environment__name=stage, operation="apply"
    ).values("artifact")
    return newer.filter(artifact__in=started).order_by("-id").first()


def _promote(*, change: SharedChange, stage: str, user) -> None:
    from deployments.runs.services import run_start

    run_start(
        project=change.artifact.project,
        environment=stage,
        target="local",
        version=change.version,
        operation="apply",
        user=system_user(),
        **PLATFORM_RUN,
    )
    audit_record(actor=user, action="shared_composer.promote", obj=change.membership.project, stage=stage,
                 version=change.version)  # fmt: skip


def shared_run_finished(*, run) -> None:
    """After a run of a shared change: record dev's outcome on the membership, then promote per policy."""
    change = (
        SharedChange.objects.select_related("membership__project", "artifact__project")
        .filter(artifact_id=run.artifact_id)
        .first()
    )
    if change is None or run.operation != "apply":
        return
    if run.status != "succeeded":
        _change_finished(change, run, outcome=run.status)
        return
    stage = run.deployment.environment.name
    bot = system_user()
    membership = change.membership
    if stage == STAGES[0]:
        now = timezone.now()
        if change.kind == SharedChange.Kind.ONBOARD and membership.state == SharedMembership.State.JOINING:
            SharedMembership.objects.filter(pk=membership.pk).update(state=SharedMembership.State.ACTIVE, joined_at=now)
            audit_record(actor=bot, action="shared_composer.joined", obj=membership.project, version=change.version)
        elif change.kind == SharedChange.Kind.OFFBOARD and membership.state == SharedMembership.State.LEAVING:
            SharedMembership.objects.filter(pk=membership.pk).update(state=SharedMembership.State.LEFT, left_at=now)
            audit_record(actor=bot, action="shared_composer.left", obj=membership.project, version=change.version)
    following = next_stage(stage)
    if following is None:
        _change_finished(change, run, outcome="succeeded")
        return
    if _superseded(change, following) is not None:
        _change_finished(change, run, outcome="superseded")
        return
    if settings.SHARED_COMPOSER_PROMOTION == "approval":
        SharedChange.objects.filter(pk=change.pk).update(awaiting_stage=following)
        return
    _promote(change=change, stage=following, user=bot)


def _change_finished(change: SharedChange, run, *, outcome: str) -> None:
    """Tell whoever listens (notifications) that the change has gone as far as it will go."""
    shared_change_finished.send(sender=SharedChange, change=change, run=run, outcome=outcome)


def shared_approve(*, change: SharedChange, user) -> None:
    """Approve the promotion a change is waiting for (policy "approval")."""
    platform = shared_platform_project()
    if not can_approve(user, platform):
        raise PermissionDenied("Only an admin or a lead of the platform team can approve a promotion.")
    with transaction.atomic():
        change = SharedChange.objects.select_for_update().get(pk=change.pk)
        stage = change.awaiting_stage
        if not stage:
            raise ValidationError("This change is not waiting for an approval.", code="refused")
        newer = _superseded(change, stage)
        change.awaiting_stage = ""
        change.save(update_fields=["awaiting_stage"])
        if newer is not None:
            raise ValidationError(
                f"Version {newer.version} has already been started in {stage} and includes this change; "
                "nothing to approve.",
                code="superseded",
            )
        _promote(change=change, stage=stage, user=user)


# -- what the summary and the pages show --------------------------------------------------------------
@dataclass(frozen=True)
class StageGrants:
    stage: str
    project_id: str
    service_account: str
    create_account: bool
    scheduler: str
    dag_folder: str
    group: str
    composer_project: str


def planned_grants(*, project: Project, created_accounts: list[str] | None = None) -> list[StageGrants]:
    """Per stage, exactly what membership grants (the confirmation step and the project page list it)."""
    missing = _missing_accounts(project) if created_accounts is None else created_accounts
    return [
        StageGrants(
            stage=stage,
            project_id=f"{project.slug}-{stage}",
            service_account=compute_account_email(project, stage),
            create_account=stage in missing,
            scheduler=scheduler_email(stage),
            dag_folder=f"{dag_bucket(stage)}/{dag_prefix(project)}",
            group=f"group:{team_group(project.team)}",
            composer_project=platform_project_id(stage),
        )
        for stage in STAGES
    ]


def dag_bucket(stage: str) -> str:
    """gs://<bucket> of the stage's shared composer: the last applied outputs, else the local cloud's naming."""
    from deployments.runs.models import Run

    run = (
        Run.objects.filter(
            deployment__environment__project__slug=platform_slug(),
            deployment__environment__name=stage,
            status="succeeded",
            operation="apply",
        )
        .order_by("-id")
        .first()
    )
    bucket = ((run.outputs if run else {}).get(f"composer_{composer_name()}") or {}).get("dag_bucket")
    if not bucket:
        from localcloud.composer import dag_bucket_name

        bucket = dag_bucket_name(platform_project_id(stage), "europe-west1", composer_name())
    return f"gs://{bucket}"


def dag_snippet(project: Project) -> str:
    """What a member pastes into its DAGs: the project per environment and the impersonation chain."""
    prefix = project.slug
    account = settings.SHARED_COMPOSER_COMPUTE_ACCOUNT
    return (
        "import os\n"
        "\n"
        "env = os.environ['DEPLOY_ENV']  # dev, test or prod, set by the shared environment\n"
        f"gcp_project = f'{prefix}-{{env}}'\n"
        f"gcp_service_account = f'{account}@{{gcp_project}}.iam.gserviceaccount.com'\n"
        "IMPERSONATION_CHAIN = [gcp_service_account]\n"
        "\n"
        "DEFAULT_DAG_ARGS = {\n"
        "    'project_id': gcp_project,\n"
        "    'impersonation_chain': IMPERSONATION_CHAIN,\n"
        "}\n"
    )


def change_runs(change: SharedChange) -> list:
    """The runs of a change's version, in stage order (dev, test, prod), latest per stage."""
    from deployments.runs.models import Run

    if change.artifact_id is None:
        return []
    runs = Run.objects.filter(artifact_id=change.artifact_id).select_related("deployment__environment")
    latest: dict[str, object] = {}
    for run in runs.order_by("id"):
        latest[run.deployment.environment.name] = run
    return [latest[stage] for stage in STAGES if stage in latest]


def change_is_settled(change: SharedChange) -> bool:
    """Nothing more will happen without someone acting: no run going and no automatic promotion due."""
    runs = change_runs(change)
    if not runs or any(not run.is_finished for run in runs):
        return False
    last = runs[-1]
    if last.status != "succeeded":
        return True
    stage = last.deployment.environment.name
    following = next_stage(stage)
    if following is None or change.awaiting_stage:
        return True
    return settings.SHARED_COMPOSER_PROMOTION != "auto" or _superseded(change, following) is not None


# -- DAG folders (guardrails) -------------------------------------------------------------------------
def dag_folder_path(project: Project, stage: str) -> Path:
    """The member's DAG folder in the stage's shared composer, in the local cloud."""
    from portal.localcloud import operator_client

    environment = operator_client().get_environment(platform_project_id(stage), composer_name())
    if environment is None:
        raise ValidationError(f"The shared composer of {stage} is not deployed yet.", code="not_deployed")
    return Path(environment["dag_path"]) / project.slug


def shared_dags_membership(*, project: Project, user) -> SharedMembership:
    """The active membership `user` may deploy DAGs to; checked before an upload is read."""
    from onboarding.access import can_deploy

    if not can_deploy(user, project):
        raise PermissionDenied(f"Only members of {project.team} can deploy DAGs of {project}.")
    membership = project.shared_memberships.filter(state=SharedMembership.State.ACTIVE).first()
    if membership is None:
        raise ValidationError(f"{project} is not a member of the shared Airflow; onboard it first.", code="refused")
    return membership


def shared_dags_deploy(*, project: Project, user, stage: str, files: dict[str, bytes]) -> SharedDagDeploy:
    """Replace a member's DAG folder in one stage with `files` (name → content), within the limits.

    A member writes only under dags/<its project>/: names are plain file names, never paths."""
    membership = shared_dags_membership(project=project, user=user)
    if stage not in STAGES:
        raise ValidationError(f"{stage!r} is not a stage; use one of: {', '.join(STAGES)}.")
    problems = [
        f"{name!r} is not a DAG file name: use a plain file name ending in .py (letters, digits, '_', '-', '.'), "
        "no folders"
        for name in files
        if not DAG_FILE.fullmatch(name)
    ]
    limit, max_bytes = settings.SHARED_COMPOSER_DAG_LIMIT, settings.SHARED_COMPOSER_DAG_MAX_BYTES
    total = sum(len(data) for data in files.values())
    if len(files) > limit:
        problems.append(f"{len(files)} DAG files; a member may have at most {limit} in its folder.")
    if total > max_bytes:
        problems.append(f"{total} bytes of DAGs; a member may have at most {max_bytes} bytes in its folder.")
    if problems:
        raise ValidationError(problems, code="limit")
    folder = dag_folder_path(project, stage)
    folder.mkdir(parents=True, exist_ok=True)
    for existing in folder.iterdir():
        if existing.is_file() and existing.name not in files:
            existing.unlink()
    for name, data in sorted(files.items()):
        partial = folder / f".{name}.partial"
        partial.write_bytes(data)
        partial.replace(folder / name)
    deploy = SharedDagDeploy.objects.create(
        membership=membership,
        stage=stage,
        file_count=len(files),
        total_bytes=total,
        files=sorted(files),
        deployed_by=user,
    )
    audit_record(actor=user, action="shared_composer.dags_deploy", obj=project, stage=stage, files=sorted(files))
    return deploy
