"""A recovery drill, start to end: plain functions shared by the command, the task and the page.

1. `drill_start` (the page's button; audited) or `drill_create` (the command) records a drill over
   one project or all of them; the button hands it to a worker (`tasks.recovery_drill`).
2. `drill_execute` claims it and starts a throw-away local cloud (`localcloud.launcher.ServerProcess`:
   its own root under RUN_WORKSPACE_DIR, its own process, port and operator token).
3. Each selected environment's deployed version is unpacked (and checked again) into a fresh
   workspace, a Hangar-written `backend_override.tf` switches its state to a local file in that
   workspace, and Terraform (`init`, `apply`) runs in the sandbox against the drill cloud only, with
   a token minted there for the environment's projects. The shared Airflow's platform project goes
   first, then projects and environments in order; an environment that fails is tried once more
   after the others (it may need another project's resources) and is then reported as failed.
4. The drill cloud is compared with the live one, project by project (`compare`), and the report is
   kept per environment (`RecoveryDrillEnvironment`).
5. Whatever happens, the drill cloud's server is stopped and its root and the workspaces removed.

A drill never touches the live cloud but to read it, and never Hangar's state backend: it holds no
deployment slot and no state lock."""

import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from deployments.drills.compare import inventory_differences
from deployments.drills.models import RecoveryDrill, RecoveryDrillEnvironment
from deployments.dsl.terraform_guards import unchecked_terraform_file
from deployments.runs import cloud_access, dispatch, sandbox, toolchain
from deployments.runs.models import Deployment
from deployments.runs.workspace import WorkspaceError, artifact_unpack, workspace_create, workspace_remove
from localcloud import client
from localcloud.errors import LocalCloudError
from localcloud.launcher import ServerProcess
from onboarding.models import EnvironmentKind, Project
from portal.audit import audit_record

log = logging.getLogger(__name__)
RECOVERY_DRILL = "deployments.drills.recovery_drill"
OVERRIDE_FILE = "backend_override.tf"
# Written by Hangar into its own workspace, never part of an artifact (artifacts may hold no override file).
OVERRIDE_TEXT = (
    "# Written by Hangar for a recovery drill: this copy keeps its own state in the workspace,\n"
    "# never the environment's live state.\n"
    'terraform {\n  backend "local" {}\n}\n'
)
ERROR_TAIL = 4000
Progress = Callable[[str], None]


class EnvironmentFailed(Exception):
    pass


# -- what a drill covers -------------------------------------------------------------------------
def _platform():
    from onboarding.shared_composer import services as shared_composer  # onboarding does not import drills back

    return shared_composer


def drill_deployments(project: Project | None = None) -> list[Deployment]:
    """The deployments a drill recreates, in order: every one with a deployed version (of `project`
    only, plus the shared Airflow's platform project when `project` is one of its members), the
    platform project first, then by project and environment position."""
    from onboarding.models import SharedMembership

    shared = _platform()
    # Sandboxes are throw-away by design: a drill rebuilds what must survive, dev, test and prod.
    deployments = Deployment.objects.filter(
        deployed_artifact__isnull=False, environment__kind=EnvironmentKind.FIXED
    ).select_related("environment__project", "deployed_artifact__project")
    if project is not None:
        scope = Q(environment__project=project)
        member = SharedMembership.objects.filter(project=project).exclude(state=SharedMembership.State.LEFT)
        if member.exists():
            scope |= Q(environment__project__slug=shared.platform_slug())
        deployments = deployments.filter(scope)

    def order(deployment: Deployment) -> tuple:
        project = deployment.environment.project
        platform = shared.is_platform_project(project)
        return (not platform, project.service_control_id, project.name, deployment.environment.position,
                deployment.target)  # fmt: skip

    return sorted(deployments, key=order)


def environment_cloud_projects(deployment: Deployment) -> list[str]:
    """The cloud projects an environment's Terraform works in: its own, and for the platform project the
    member projects whose grants it manages in that stage (as a run's token, `cloud_access`)."""
    shared = _platform()
    environment = deployment.environment
    projects = [environment.gcp_project_id]
    if shared.is_platform_project(environment.project):
        projects += shared.member_project_ids(stage=environment.name)
    return list(dict.fromkeys(projects))


def compared_projects(deployment: Deployment, drilled: list[Deployment], *, everything: bool = False) -> list[str]:
    """The projects whose inventory this environment's row reports: its own, and those of its other
    cloud projects (a platform project's members) that no environment of the drill owns, when they
    belong to a project of the drill (any, in a drill of `everything`). Each project is compared once."""
    owned = {d.environment.gcp_project_id for d in drilled}
    own, *others = environment_cloud_projects(deployment)
    if everything:
        return [own, *[p for p in others if p not in owned]]
    in_scope = set(
        Deployment.objects.filter(environment__project__in={d.environment.project_id for d in drilled})
        .values_list("environment__gcp_project_id", flat=True)
        .distinct()
    )
    return [own, *[p for p in others if p not in owned and p in in_scope]]


# -- starting ------------------------------------------------------------------------------------
def drill_create(*, user, project: Project | None = None) -> RecoveryDrill:
    """Record a drill (queued) with a row per environment it will recreate; audited."""
    with transaction.atomic():
        drill = RecoveryDrill.objects.create(started_by=user, project=project)
        RecoveryDrillEnvironment.objects.bulk_create(
            RecoveryDrillEnvironment(drill=drill, deployment=d, artifact=d.deployed_artifact, position=i)
            for i, d in enumerate(drill_deployments(project))
        )
        audit_record(actor=user, action="recovery_drill.start", obj=drill, scope=drill.scope)
    return drill


def drill_start(*, user, project: Project | None = None) -> RecoveryDrill:
    """The button: record a drill and hand it to a worker once committed."""
    with transaction.atomic():
        drill = drill_create(user=user, project=project)
        transaction.on_commit(lambda: dispatch.send_task(RECOVERY_DRILL, drill.pk))
    return drill


# -- running -------------------------------------------------------------------------------------
def drill_execute(*, drill_id: int, progress: Progress | None = None) -> RecoveryDrill | None:
    """Run a queued drill to its end (a worker's part, or the command's in-process). None when another
    process already claimed it (a duplicate delivery)."""
    say = progress or (lambda message: None)
    claimed = RecoveryDrill.objects.filter(pk=drill_id, status=RecoveryDrill.Status.QUEUED).update(
        status=RecoveryDrill.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    drill = RecoveryDrill.objects.get(pk=drill_id)
    status, error = RecoveryDrill.Status.FINISHED, ""
    try:
        _run(drill, say)
    except Exception as failure:  # the drill as a whole: no cloud, no sandbox
        log.exception("recovery drill %s failed", drill.pk)
        status, error = RecoveryDrill.Status.FAILED, str(failure)[-ERROR_TAIL:] or type(failure).__name__
        RecoveryDrillEnvironment.objects.filter(drill=drill, status=RecoveryDrillEnvironment.Status.PENDING).update(
            status=RecoveryDrillEnvironment.Status.FAILED, error=f"Not recreated: the drill failed: {error}"
        )
    RecoveryDrill.objects.filter(pk=drill.pk).update(status=status, error=error, finished_at=timezone.now())
    drill.refresh_from_db()
    return drill


def _run(drill: RecoveryDrill, say: Progress) -> None:
    rows = list(
        drill.environments.select_related("deployment__environment__project", "artifact__project").order_by("position")
    )
    sandbox.check()
    base = Path(settings.RUN_WORKSPACE_DIR)
    base.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix=f"drill-{drill.pk}-", dir=base))
    RecoveryDrill.objects.filter(pk=drill.pk).update(cloud_root=str(home / "cloud"))
    server: ServerProcess | None = None
    workspaces: dict[int, Path] = {}
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALCLOUD_")}
        server = ServerProcess(home / "cloud", log=home / "server.log", env=env)
        say(f"Drill cloud at {server.url} (root {server.root}).")
        failed = [row for row in rows if not _recreate(drill, row, server, workspaces, say)]
        for row in failed:  # once more: it may have needed another project's resources
            say(f"Trying {row.deployment} once more, after the others.")
            _recreate(drill, row, server, workspaces, say)
        _compare(rows, server, say, everything=drill.project_id is None)
    finally:
        if server is not None:
            server.stop()
        for workspace in workspaces.values():
            workspace_remove(workspace)
        shutil.rmtree(home, ignore_errors=True)


def _recreate(drill: RecoveryDrill, row: RecoveryDrillEnvironment, server: ServerProcess,
              workspaces: dict[int, Path], say: Progress) -> bool:  # fmt: skip
    """Init and apply one environment's deployed version into the drill cloud; True when it worked."""
    say(f"Recreating {row.deployment} at version {row.artifact.version}…")
    started = time.monotonic()
    token_id = ""
    try:
        workspace = workspaces.get(row.pk)
        workdir = workspace / "artifact" / "infrastructure" / row.deployment.environment.name if workspace else None
        if workdir is None or not (workdir / OVERRIDE_FILE).is_file():  # else a second attempt goes on from the first
            if workspace is not None:
                workspace_remove(workspace)
            workspace = workspaces[row.pk] = workspace_create(run_id=f"drill-{drill.pk}-{row.pk}")
            workdir = _unpack(row, workspace)
        token = server.client().mint_token(
            f"recovery drill {drill.pk}: {row.deployment}",
            environment_cloud_projects(row.deployment),
            cloud_access.token_ttl_seconds(),
        )
        token_id = token["id"]
        env = toolchain.terraform_env(workspace, localcloud_url=server.url, localcloud_token=token["token"])
        binary = toolchain.terraform_binary()
        _terraform(workspace, workdir, env, [binary, "init", "-input=false", "-no-color"])
        _terraform(workspace, workdir, env, [binary, "apply", "-input=false", "-no-color", "-auto-approve"])
        status, error = RecoveryDrillEnvironment.Status.RECREATED, ""
    except (EnvironmentFailed, WorkspaceError) as failure:
        status, error = RecoveryDrillEnvironment.Status.FAILED, str(failure)
    except LocalCloudError as failure:
        status, error = RecoveryDrillEnvironment.Status.FAILED, f"The drill cloud refused: {failure.message}"
    except Exception:  # one environment's surprise must not stop the others
        log.exception("recovery drill %s: recreating %s failed inside Hangar", drill.pk, row.deployment)
        status, error = RecoveryDrillEnvironment.Status.FAILED, "Hangar failed while recreating it; see the log."
    finally:
        if token_id:
            with contextlib.suppress(LocalCloudError):
                server.client().revoke_token(token_id)
    seconds = (row.seconds or 0) + time.monotonic() - started
    row.status, row.error, row.seconds = status, error[-ERROR_TAIL:], round(seconds, 2)
    row.save(update_fields=["status", "error", "seconds"])
    say(f"{row.deployment}: {row.get_status_display().lower()} in {row.seconds:.1f} s.")
    return status == RecoveryDrillEnvironment.Status.RECREATED


def _unpack(row: RecoveryDrillEnvironment, workspace: Path) -> Path:
    """The deployed version unpacked and checked (`artifact_unpack` runs the upload checks again, which
    refuse override files), then Hangar's own backend override written beside it."""
    environment = row.deployment.environment.name
    artifact_unpack(artifact=row.artifact, dest=workspace / "artifact")
    workdir = workspace / "artifact" / "infrastructure" / environment
    if not workdir.is_dir():
        raise EnvironmentFailed(f"Version {row.artifact.version} has no infrastructure/{environment}/ folder.")
    for path in workdir.iterdir():  # the checks passed, so there is none; never write over one regardless
        if path.name == OVERRIDE_FILE or unchecked_terraform_file(path.name):
            raise EnvironmentFailed(f"Version {row.artifact.version} holds {path.name}; refusing to recreate it.")
    (workdir / OVERRIDE_FILE).write_text(OVERRIDE_TEXT)
    return workdir


def _terraform(workspace: Path, workdir: Path, env: dict[str, str], args: list[str]) -> None:
    """One sandboxed Terraform command; EnvironmentFailed with the end of what it said."""
    out_path = workspace / f"terraform-{args[1]}.out"
    with open(out_path, "wb") as out:
        try:
            code, _ = sandbox.terraform_run(args, workspace=workspace, workdir=workdir, env=env, out=out,
                                            stderr=subprocess.STDOUT)  # fmt: skip
        except sandbox.TerraformTimeout as error:
            raise EnvironmentFailed(str(error)) from None
    if code != 0:
        with open(out_path, "rb") as said:
            said.seek(max(0, out_path.stat().st_size - 4 * ERROR_TAIL))
            tail = said.read().decode("utf-8", "replace").strip()
        raise EnvironmentFailed(f"terraform {args[1]} failed:\n{tail[-ERROR_TAIL:] or f'exit code {code}'}")


# -- comparing -----------------------------------------------------------------------------------
def _compare(rows: list[RecoveryDrillEnvironment], server: ServerProcess, say: Progress, *, everything: bool) -> None:
    """Each recreated environment's projects, live against drill."""
    live = client.operator_client(settings.LOCALCLOUD_URL, settings.LOCALCLOUD_OPERATOR_TOKEN_FILE)
    drill = server.client()
    drilled = [row.deployment for row in rows]
    for row in rows:
        if row.status != RecoveryDrillEnvironment.Status.RECREATED:
            continue
        projects = compared_projects(row.deployment, drilled, everything=everything)
        try:
            differences = [
                difference
                for project in projects
                for difference in inventory_differences(
                    project, live.list_resources(project), drill.list_resources(project)
                )
            ]
        except LocalCloudError as failure:
            row.error = f"Could not compare with the live cloud: {failure.message}"
            row.save(update_fields=["error"])
            continue
        row.parity, row.differences, row.compared_projects = not differences, differences, projects
        row.save(update_fields=["parity", "differences", "compared_projects"])
        say(f"{row.deployment}: parity {'yes' if row.parity else 'no'}.")


# -- reading -------------------------------------------------------------------------------------
def drill_passed(drill: RecoveryDrill) -> bool:
    """Finished, every environment recreated and identical to the live one."""
    rows = list(drill.environments.all())
    return drill.status == RecoveryDrill.Status.FINISHED and all(
        row.status == RecoveryDrillEnvironment.Status.RECREATED and row.parity for row in rows
    )


def drill_report(drill: RecoveryDrill) -> str:
    """The drill as text (the command prints it)."""
    lines = [f"Recovery drill #{drill.pk} ({drill.scope}): {drill.get_status_display().lower()}."]
    if drill.error:
        lines.append(f"  error: {drill.error}")
    rows = drill.environments.select_related("deployment__environment", "artifact").order_by("position")
    if not rows:
        lines.append("  No environment has a deployed version: nothing to recreate.")
    for row in rows:
        seconds = f"{row.seconds:.1f} s" if row.seconds is not None else "—"
        parity = {True: "yes", False: "no", None: "not compared"}[row.parity]
        lines.append(
            f"- {row.deployment} (version {row.artifact.version}): {row.get_status_display().lower()}, "
            f"{seconds}, parity {parity}"
        )
        several = len(row.compared_projects) > 1  # a platform project's row: say which project
        lines += [
            f"    {difference['project'] + ': ' if several else ''}{difference['message']}"
            for difference in row.differences
        ]
        if row.error:
            lines += [f"    {line}" for line in row.error.splitlines()[-15:]]
    return "\n".join(lines)
