"""What would this version change? Speculative plans of a freshly uploaded version.

After an upload, Hangar plans the new version against every environment of the project that runs
something (a deployment with a deployed version): `terraform plan -lock=false`, never applied,
holding no slot, so a deploy in progress is neither delayed nor delays it. The plan reads the
environment's state with a password the state backend accepts for GET only, and the cloud with a
read-only token: a speculative plan cannot change anything, even from a hostile artifact. Its result
(counts, whether it destroys anything, the readable plan) shows on the Deploy tab and the artifact
page. SPECULATIVE_PLANS=false turns it off."""

import hashlib
import hmac
import json
import logging
import os
import secrets
import signal
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from deployments.artifacts.models import Artifact
from deployments.plans.models import SpeculativePlan
from deployments.plans.services import plan_review, source_paths
from deployments.runs import cloud_access, dispatch, sandbox, toolchain
from deployments.runs.models import Deployment
from deployments.runs.workspace import WorkspaceError, artifact_unpack, workspace_create, workspace_remove
from deployments.state.services import RunCredential, StateError, backend_env
from localcloud import client
from localcloud.errors import LocalCloudError

log = logging.getLogger(__name__)
SPECULATIVE_PLAN = "deployments.plans.speculative_plan"
USERNAME_PREFIX = "plan-"
PLAN_FILE = "speculative.tfplan"
OUTPUT_LIMIT = 64 * 1024 * 1024
ERROR_TAIL = 4000


class PlanFailed(Exception):
    pass


def speculative_plans_start(*, artifact: Artifact) -> list[SpeculativePlan]:
    """Queue a speculative plan of `artifact` for each environment of its project that runs something."""
    if not settings.SPECULATIVE_PLANS:
        return []
    environments = artifact.manifest.get("environments") or []
    deployments = Deployment.objects.filter(
        environment__project_id=artifact.project_id, deployed_artifact__isnull=False
    ).select_related("environment")
    created = []
    with transaction.atomic():
        for deployment in deployments:
            if environments and deployment.environment.name not in environments:
                continue
            plan, new = SpeculativePlan.objects.get_or_create(artifact=artifact, deployment=deployment)
            if new:
                created.append(plan)
                transaction.on_commit(lambda pk=plan.pk: dispatch.send_task(SPECULATIVE_PLAN, pk))
    return created


def _digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def speculative_authenticate(*, deployment_id: int, username: str, password: str) -> SpeculativePlan:
    """The running speculative plan these credentials belong to; it may read this deployment's state only."""
    denied = StateError(403, "These credentials are not valid for this state (wrong, expired, or another plan's).")
    number = username.removeprefix(USERNAME_PREFIX)
    if not number.isdigit():
        raise denied
    plan = SpeculativePlan.objects.filter(pk=int(number)).only("id", "deployment_id", "status", "credential").first()
    if (
        plan is None
        or not plan.credential
        or not hmac.compare_digest(plan.credential, _digest(password))
        or plan.deployment_id != deployment_id
        or plan.status != SpeculativePlan.Status.RUNNING
    ):
        raise denied
    return plan


def speculative_execute(*, plan_id: int) -> None:
    """A worker's part: plan in a fresh sandboxed workspace, keep the readable result, leave nothing behind."""
    claimed = SpeculativePlan.objects.filter(pk=plan_id, status=SpeculativePlan.Status.QUEUED).update(
        status=SpeculativePlan.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return  # a duplicate delivery
    plan = SpeculativePlan.objects.select_related("artifact", "deployment__environment__project").get(pk=plan_id)
    workspace, token_id = None, ""
    try:
        workspace = workspace_create(run_id=f"plan-{plan.pk}")
        password = secrets.token_urlsafe(32)
        SpeculativePlan.objects.filter(pk=plan.pk).update(credential=_digest(password))
        token = client.mint_token(
            f"speculative plan {plan.pk}",
            _cloud_projects(plan.deployment),
            cloud_access.token_ttl_seconds(),
            url=settings.LOCALCLOUD_URL,
            token_file=settings.LOCALCLOUD_OPERATOR_TOKEN_FILE,
            read_only=True,
        )
        token_id = token["id"]
        result = _plan(plan, workspace, password, token["token"])
        SpeculativePlan.objects.filter(pk=plan.pk).update(status=SpeculativePlan.Status.SUCCEEDED, **result)
    except (PlanFailed, WorkspaceError, sandbox.SandboxUnavailable) as error:
        _fail(plan, str(error))
    except LocalCloudError as error:
        _fail(plan, f"Could not get read-only credentials for the local cloud: {error.message}")
    except Exception:
        log.exception("speculative plan %s failed inside Hangar", plan.pk)
        _fail(plan, "Hangar failed while planning this version; an admin can find why in the worker's log.")
    finally:
        SpeculativePlan.objects.filter(pk=plan.pk).update(credential="", finished_at=timezone.now())
        if token_id:
            cloud_access.cloud_token_revoke(token_id)
        if workspace is not None:
            workspace_remove(workspace)


def _fail(plan: SpeculativePlan, error: str) -> None:
    SpeculativePlan.objects.filter(pk=plan.pk).update(status=SpeculativePlan.Status.FAILED, error=error[-ERROR_TAIL:])


def _cloud_projects(deployment: Deployment) -> list[str]:
    from onboarding.shared_composer import services as shared_composer  # onboarding does not import plans back

    environment = deployment.environment
    projects = [environment.gcp_project_id]
    if shared_composer.is_platform_project(environment.project):
        projects += shared_composer.member_project_ids(stage=environment.name)
    return list(dict.fromkeys(projects))


def _plan(plan: SpeculativePlan, workspace: Path, password: str, cloud_token: str) -> dict:
    environment = plan.deployment.environment.name
    artifact_unpack(artifact=plan.artifact, dest=workspace / "artifact")
    root = workspace / "artifact"
    workdir = root / "infrastructure" / environment
    if not workdir.is_dir():
        raise PlanFailed(f"Version {plan.artifact.version} has no infrastructure/{environment}/ folder.")
    credential = RunCredential(username=f"{USERNAME_PREFIX}{plan.pk}", password=password)
    env = toolchain.terraform_env(
        workspace,
        localcloud_token=cloud_token,
        extra=backend_env(base_url=settings.SITE_URL, deployment_id=plan.deployment_id, credential=credential),
    )
    binary = toolchain.terraform_binary()
    _terraform(workspace, workdir, env, [binary, "init", "-input=false", "-no-color"])
    _terraform(
        workspace, workdir, env, [binary, "plan", "-input=false", "-no-color", "-lock=false", f"-out={PLAN_FILE}"]
    )
    raw = _terraform(workspace, workdir, env, [binary, "show", "-json", PLAN_FILE])
    try:
        plan_json = json.loads(raw)
    except ValueError:
        raise PlanFailed("terraform show -json printed no plan that Hangar could read.") from None
    names = [
        str(p.relative_to(root)) for p in (root / "infrastructure").rglob("*") if p.is_file() and not p.is_symlink()
    ]
    sources = {name: (root / name).read_text(errors="replace") for name in source_paths(environment, names)}
    readable, counts = plan_review(plan_json, sources=sources, environment=environment)
    return {
        "plan_json": plan_json,
        "row_counts": counts,
        "to_add": readable.add,
        "to_change": readable.change,
        "to_destroy": readable.destroy,
        "destroys": readable.destroys_anything or readable.replaces_anything,
    }


def _terraform(workspace: Path, workdir: Path, env: dict[str, str], args: list[str]) -> bytes:
    """One sandboxed Terraform command; its standard output, or PlanFailed with the end of what it said."""
    command = sandbox.terraform_command(args, workspace=workspace, workdir=workdir) if sandbox.enabled() else args
    out_path = workspace / "terraform.out"
    with open(out_path, "wb") as out:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip
        try:
            _, errors = process.communicate(timeout=settings.RUN_TIME_LIMIT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the sandbox and everything in it
            process.communicate()
            raise PlanFailed(
                f"terraform {args[1]} took longer than {settings.RUN_TIME_LIMIT} s and was stopped."
            ) from None
    output = out_path.read_bytes() if out_path.stat().st_size <= OUTPUT_LIMIT else b""
    if process.returncode != 0:
        said = (errors or output).decode("utf-8", "replace").strip()
        raise PlanFailed(f"terraform {args[1]} failed:\n{said[-ERROR_TAIL:] or f'exit code {process.returncode}'}")
    return output
