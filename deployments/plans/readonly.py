"""Read-only Terraform jobs: plan a version against a deployment's real state and cloud, change nothing.

Speculative plans (what would this upload change?) and drift checks (what changed outside Hangar?)
both plan outside the run queue. They take no slot and no lock (`-lock=false`), so a deploy is neither
delayed by them nor delays them. They cannot write either, even from a hostile artifact: the state
backend accepts their password for GET only, and the local cloud token they get is read-only. Each
job runs in a fresh sandboxed workspace that is removed when it ends, with its token revoked.

A job's row (SpeculativePlan, DriftCheck) keeps the digest of its state password in `credential`
while it runs, and has `deployment_id` and a `status` that is RUNNING while it plans."""

import hashlib
import hmac
import logging
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from deployments.artifacts.models import Artifact
from deployments.plans.services import source_paths
from deployments.runs import cloud_access, sandbox, toolchain
from deployments.runs.models import Deployment
from deployments.runs.workspace import (
    WorkspaceError,
    artifact_unpack,
    environment_workdir,
    workspace_create,
    workspace_remove,
)
from deployments.state.services import RunCredential, StateError, backend_env
from localcloud import client
from localcloud.errors import LocalCloudError

log = logging.getLogger(__name__)
OUTPUT_LIMIT = 64 * 1024 * 1024
ERROR_TAIL = 4000


class PlanFailed(Exception):
    pass


@dataclass
class Job:
    """A read-only job's workspace, ready to run Terraform in `workdir` (the environment's folder)."""

    workspace: Path
    root: Path  # the unpacked artifact
    workdir: Path
    environment: str
    env: dict[str, str] = field(repr=False)
    binary: str

    def terraform(self, *args: str) -> bytes:
        """One sandboxed Terraform command; its standard output, or PlanFailed with the end of what it said."""
        out_path = self.workspace / "terraform.out"
        with open(out_path, "wb") as out:
            try:
                code, errors = sandbox.terraform_run(
                    [self.binary, *args], workspace=self.workspace, workdir=self.workdir, env=self.env, out=out,
                    stderr=subprocess.PIPE,
                )  # fmt: skip
            except sandbox.TerraformTimeout as error:
                raise PlanFailed(str(error)) from None
        output = out_path.read_bytes() if out_path.stat().st_size <= OUTPUT_LIMIT else b""
        if code != 0:
            said = (errors or output).decode("utf-8", "replace").strip()
            raise PlanFailed(f"terraform {args[0]} failed:\n{said[-ERROR_TAIL:] or f'exit code {code}'}")
        return output

    def sources(self) -> dict[str, str]:
        """The DSL files of this environment (main.yaml, schemas), for the readable plan's names and links."""
        infrastructure = self.root / "infrastructure"
        names = [str(p.relative_to(self.root)) for p in infrastructure.rglob("*") if p.is_file() and not p.is_symlink()]
        return {name: (self.root / name).read_text(errors="replace") for name in source_paths(self.environment, names)}


def digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def reader_authenticate(model, *, prefix: str, deployment_id: int, username: str, password: str):
    """The running job (a `model` row) these state-backend credentials belong to; it may read this
    deployment's state only, and only while it runs."""
    denied = StateError(403, "These credentials are not valid for this state (wrong, expired, or another job's).")
    number = username.removeprefix(prefix)
    if not number.isdigit():
        raise denied
    job = model.objects.filter(pk=int(number)).only("id", "deployment_id", "status", "credential").first()
    if (
        job is None
        or not job.credential
        or not hmac.compare_digest(job.credential, digest(password))
        or job.deployment_id != deployment_id
        or job.status != model.Status.RUNNING
    ):
        raise denied
    return job


@contextmanager
def readonly_job(*, row, prefix: str, deployment: Deployment, artifact: Artifact) -> Iterator[Job]:
    """Unpack `artifact` for `deployment`'s environment in a fresh workspace, with read-only state and cloud
    credentials for `row` (a SpeculativePlan or DriftCheck); everything is removed and revoked afterwards."""
    model = type(row)
    environment = deployment.environment.definition
    workspace = workspace_create(run_id=f"{prefix}{row.pk}")
    token_id = ""
    try:
        password = secrets.token_urlsafe(32)
        model.objects.filter(pk=row.pk).update(credential=digest(password))
        token = {"id": "", "token": None}
        if deployment.target == "local":
            # On gcp the provider impersonates the environment's deployer account (docs/gcp.md); the job only
            # plans, and its state credential is read-only.
            token = client.mint_token(
                f"{prefix.rstrip('-')} {row.pk}",
                cloud_projects(deployment),
                cloud_access.token_ttl_seconds(),
                url=settings.LOCALCLOUD_URL,
                token_file=settings.LOCALCLOUD_OPERATOR_TOKEN_FILE,
                read_only=True,
            )
        token_id = token["id"]
        root = workspace / "artifact"
        artifact_unpack(artifact=artifact, dest=root)
        workdir = environment_workdir(root, deployment.environment, deployment.target)
        if not workdir.is_dir():
            raise PlanFailed(f"Version {artifact.version} has no infrastructure/{environment}/ folder.")
        credential = RunCredential(username=f"{prefix}{row.pk}", password=password)
        env = toolchain.terraform_env(
            workspace,
            localcloud_token=token["token"],
            extra=backend_env(base_url=settings.SITE_URL, deployment_id=deployment.pk, credential=credential),
        )
        yield Job(workspace, root, workdir, environment, env, toolchain.terraform_binary())
    finally:
        model.objects.filter(pk=row.pk).update(credential="")
        if token_id:
            cloud_access.cloud_token_revoke(token_id)
        workspace_remove(workspace)


def failure_text(error: Exception, *, what: str) -> str:
    """What a user reads when a read-only job failed; `what` names the job ("planning this version").
    An error Hangar did not expect is logged with its traceback for the admins."""
    if not isinstance(error, (PlanFailed, WorkspaceError, sandbox.SandboxUnavailable, LocalCloudError)):
        log.error("a read-only job failed while %s", what, exc_info=error)
    if isinstance(error, (PlanFailed, WorkspaceError, sandbox.SandboxUnavailable)):
        return str(error)
    if isinstance(error, LocalCloudError):
        return f"Could not get read-only credentials for the local cloud: {error.message}"
    return f"Hangar failed while {what}; an admin can find why in the worker's log."


def cloud_projects(deployment: Deployment) -> list[str]:
    """The cloud projects a job on this deployment may read: its own, plus the member projects of the shared
    Airflow's platform project."""
    from onboarding.shared_composer import services as shared_composer  # onboarding does not import plans back

    environment = deployment.environment
    projects = [environment.gcp_project_id]
    if shared_composer.is_platform_project(environment.project):
        projects += shared_composer.member_project_ids(stage=environment.name)
    return list(dict.fromkeys(projects))
