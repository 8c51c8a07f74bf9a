"""Executing one run on a worker, in a fresh workspace, each Terraform command in its own
sandbox, every output line stored in order as it arrives.

A run is planned first: `terraform plan -out`, and the binary plan is stored with Hangar
(`plans.services.plan_store`) together with `terraform show -json` of it. Then it ends (a plan,
or nothing to change), stops at `planned` for a person to confirm (the worker leaves; the slot
stays held), or, when its environment applies automatically and it destroys nothing, goes on at
once. A confirmed run comes back to a worker, which unpacks the artifact again and applies
exactly the stored plan (`terraform apply <planfile>`, its SHA-256 checked first).

A watchdog thread beats the run's heartbeat, notices a cancel request or the
time limit, and then interrupts Terraform gracefully (SIGINT) before killing
it. Terraform dies with the worker (parent-death signal), so a lost worker
never leaves a Terraform process writing state behind it."""

import contextlib
import ctypes
import hashlib
import json
import logging
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

from deployments.dsl.protection import protected_table_problems
from deployments.live import wakeups
from deployments.plans import services as plans
from deployments.plans.models import SavedPlan
from deployments.runs import cloud_access, sandbox, shutdown, toolchain
from deployments.runs import services as runs
from deployments.runs.choices import FINAL_STATUSES, Operation, RunStatus, Target
from deployments.runs.db_retry import retrying
from deployments.runs.logs import RunLog
from deployments.runs.models import Run
from deployments.runs.terraform_json import RunFindings, parse_line
from deployments.runs.workspace import (
    WorkspaceError,
    artifact_unpack,
    environment_workdir,
    workspace_create,
    workspace_remove,
)
from deployments.state import services as state_services

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1


class StepFailed(Exception):
    pass


class Stopped(Exception):
    """Cancelled by a user, or over the time limit."""


PLAN_FILE = "hangar.tfplan"
# `terraform show -json` of a saved plan is read into memory and stored; larger ones fail the run.
PLAN_JSON_MAX_BYTES = 64 * 1024 * 1024
PLAN_FILE_MAX_BYTES = 64 * 1024 * 1024
PARKED = "parked"  # _execute's outcome when the run waits at `planned` for a person


@dataclass
class RunState:
    """Per-run state of the executor, never kept on the task."""

    run: Run
    log: RunLog
    workspace: Path | None
    findings: RunFindings = field(default_factory=RunFindings)
    process: subprocess.Popen | None = None
    stop_reason: str = ""  # set by the watchdog: why Terraform is being stopped
    stop_status: str = ""
    cloud_token_id: str = ""  # the run's local cloud token, revoked when the run ends
    lock: threading.Lock = field(default_factory=threading.Lock)


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


# Work beside the apply (`show -json` of the plan being applied) runs at this niceness: it takes the CPU
# the apply leaves idle, so the apply, which holds the lock and changes resources, is not slowed by it.
SIDE_NICENESS = 19


def _popen(state: RunState, args: list[str], workdir: Path, env: dict[str, str], *, stdout, stderr,
           side: bool = False) -> subprocess.Popen:  # fmt: skip
    """Start one Terraform command of the run, in the sandbox, in a process group of its own (so a kill
    reaches the providers too), dying with the worker.

    In the sandbox bwrap's --die-with-parent ties it to the worker, so no hook runs between fork and exec
    and Python can use vfork: forking the worker for a hook costs 6-7 ms a command. Without the sandbox the
    child sets its parent-death signal itself."""
    command = _sandboxed(state, args, workdir)
    if side:
        command = [shutil.which("nice") or "/usr/bin/nice", "-n", str(SIDE_NICENESS), *command]
    return subprocess.Popen(
        command,
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
        preexec_fn=None if sandbox.enabled() else _die_with_parent,
    )


class Watchdog(threading.Thread):
    """Beats the heartbeat, and stops Terraform on a cancel request, the time limit, or when the run
    was ended by someone else (the reaper, an admin freeing the slot).

    A database error costs one tick, never the thread: it is logged, the connection closed, and the
    next tick tries again."""

    def __init__(self, state: RunState):
        super().__init__(name=f"run-{state.run.pk}-watchdog", daemon=True)
        self.state = state
        self.finished = threading.Event()
        self.deadline = time.monotonic() + settings.RUN_TIME_LIMIT
        self.last_beat = 0.0
        self.failures = 0
        self.drain_announced = False

    def run(self) -> None:
        try:
            while not self.finished.wait(1.0):
                try:
                    self.tick()
                    self.failures = 0
                except DatabaseError as error:
                    self.failures += 1
                    log.warning(
                        "run %s: the watchdog could not reach the database (%s); trying again in a second",
                        self.state.run.pk,
                        error,
                        exc_info=self.failures == 1,
                    )
                    with contextlib.suppress(Exception):
                        connection.close()
                except Exception:
                    log.exception("run %s: watchdog tick failed; trying again in a second", self.state.run.pk)
        finally:
            with contextlib.suppress(Exception):
                connection.close()

    def tick(self) -> None:
        run_id = self.state.run.pk
        now = time.monotonic()
        self.drain(now)
        if now - self.last_beat >= settings.RUN_HEARTBEAT_INTERVAL:
            self.beat()
            self.last_beat = now
        if self.state.stop_reason:
            return
        row = Run.objects.filter(pk=run_id).values_list("status", "worker", "cancel_requested_at", "error").first()
        if self.finished.is_set():
            return  # the executor is finishing the run itself
        if row is None or row[0] in FINAL_STATUSES or row[1] != self.state.run.worker:
            self.ended_elsewhere(row)
        elif row[2]:
            self.stop("Cancelled on request.", RunStatus.CANCELLED)
        elif now > self.deadline:
            self.stop(
                f"The run exceeded its time limit of {settings.RUN_TIME_LIMIT} seconds and was stopped.",
                RunStatus.FAILED,
            )

    def drain(self, now: float) -> None:
        """The worker is shutting down: say so, and cancel gracefully once RUN_DRAIN_TIMEOUT is over."""
        deadline = shutdown.drain_deadline()
        if deadline is None or self.state.stop_reason or self.finished.is_set():
            return
        if now >= deadline:
            self.stop(
                f"worker shutting down: the run did not finish within RUN_DRAIN_TIMEOUT "
                f"({settings.RUN_DRAIN_TIMEOUT} s), so Terraform was interrupted gracefully, as a cancel does: it "
                "finished the call in flight, saved the state and released the lock. Deploy again to continue "
                "from the stored state.",
                RunStatus.CANCELLED,
            )
        elif not self.drain_announced:
            self.drain_announced = True
            self.state.log.append(
                f"worker shutting down: this run may finish; if it has not in {max(0, round(deadline - now))} s "
                "(RUN_DRAIN_TIMEOUT), it will be cancelled gracefully.",
                level="warn",
                type="hangar",
            )

    def beat(self) -> None:
        Run.objects.filter(pk=self.state.run.pk).update(heartbeat_at=timezone.now())

    def ended_elsewhere(self, row) -> None:
        """The run was finished while this worker still runs its Terraform: stop it, and cut its cloud access now."""
        if row is None:
            why = "it no longer exists"
        elif row[0] in FINAL_STATUSES:
            first = (row[3] or "").splitlines()[:1]
            why = f"it was marked {row[0]}" + (f" ({first[0]})" if first else "")
        else:
            why = f"it is now held by {row[1] or 'another worker'}"
        self.stop(
            f"This run was ended outside this worker: {why}. Terraform was stopped, so that it does not keep "
            "changing resources while the deployment's next run starts.",
            row[0] if row and row[0] in FINAL_STATUSES else RunStatus.FAILED,
        )
        cloud_access.cloud_token_revoke(self.state.cloud_token_id)
        log.warning("run %s was ended elsewhere (%s); its Terraform was stopped", self.state.run.pk, why)

    def stop(self, reason: str, status: str) -> None:
        with self.state.lock:
            self.state.stop_reason, self.state.stop_status = reason, status
            process = self.state.process
        if process is not None:
            _interrupt(process)


def _terraform_pids(group: int) -> list[int]:
    """Terraform's own processes in a step's process group (not the sandbox around it, nor its providers)."""
    name = Path(toolchain.terraform_binary()).name[:15]  # the kernel keeps 15 characters of a command's name
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" (", 1)
            comm, fields = rest.rsplit(") ", 1)
        except (OSError, ValueError):
            continue  # gone meanwhile
        if comm == name and int(fields.split()[2]) == group:
            found.append(int(pid))
    return found


def _interrupt(process: subprocess.Popen) -> None:
    """SIGINT lets Terraform finish the current call and release the lock; SIGKILL after the grace period.

    Only Terraform gets SIGINT: bubblewrap does not pass signals on, and the providers would die of it."""
    if process.poll() is not None:
        return
    for pid in _terraform_pids(process.pid) or [process.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)

    def kill_later():
        try:
            process.wait(timeout=settings.RUN_CANCEL_GRACE)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)

    threading.Thread(target=kill_later, daemon=True).start()


def run_execute(*, run_id: int, worker: str) -> None:
    run = retrying(runs.run_claim, run_id=run_id, worker=worker)
    if run is None:
        return
    state = RunState(run=run, log=RunLog(run), workspace=None)
    watchdog = Watchdog(state)
    watchdog.start()
    # What the run says if the process is stopped under it (SystemExit, KeyboardInterrupt).
    status, error = (
        RunStatus.FAILED,
        (
            "The worker process running this run stopped before the run finished, and Terraform was stopped with it. "
            "Check the log, then deploy again: Terraform continues from the stored state."
        ),
    )
    try:
        # Inside the try: a run whose workspace cannot be made fails with the reason, and frees its slot.
        state.workspace = workspace_create(run_id=run.pk)
        outcome = _execute(state, state.workspace)
        status, error = (None if outcome == PARKED else RunStatus.SUCCEEDED), ""
    except Stopped:
        status, error = state.stop_status or RunStatus.CANCELLED, state.stop_reason
    except (StepFailed, WorkspaceError, sandbox.SandboxUnavailable, cloud_access.CloudAccessError) as failure:
        error = str(failure)
    except Exception:
        log.exception("run %s failed inside Hangar", run.pk)
        with contextlib.suppress(Exception):  # the database may be what failed
            state.log.append(
                f"Hangar failed while running this run:\n{traceback.format_exc()}", level="error", type="traceback"
            )
        error = "Hangar failed while running Terraform; an admin can see why in the log."
    finally:
        watchdog.finished.set()
        try:
            kept = _keep_errored_state(state)
        except Exception:
            log.exception("run %s: could not keep errored.tfstate", run.pk)
            kept = ""
        if kept:
            status, error = RunStatus.FAILED, f"{error}\n\n{kept}".strip()
        # Terraform is done: its cloud access ends before anyone can see the run ended.
        try:
            cloud_access.cloud_token_revoke(state.cloud_token_id)
        except Exception:
            log.exception("run %s: could not revoke its cloud token (it expires anyway)", run.pk)
        try:
            if status is not None:  # None: parked at `planned`, holding its slot for a person
                retrying(runs.run_finish, run=run, status=status, error=error)
        finally:
            if state.workspace is not None:
                workspace_remove(state.workspace)
            close_old_connections()


ERRORED_STATE = "errored.tfstate"
# Kept even above the state backend's limit (a 413 is one reason it exists), up to this much.
ERRORED_STATE_MAX_BYTES = 256 * 1024 * 1024


def _keep_errored_state(state: RunState) -> str:
    """Attach every errored.tfstate Terraform left in the workspace to the run, before the workspace goes.

    Terraform writes it when it cannot save its state; it is the only record of what the apply did."""
    if state.workspace is None or not state.workspace.is_dir():
        return ""
    kept = []
    for path in sorted(state.workspace.rglob(ERRORED_STATE)):
        if path.is_symlink() or not path.is_file():
            continue  # written by the sandboxed Terraform: never follow a link out of the workspace
        size = path.stat().st_size
        if not size or size > ERRORED_STATE_MAX_BYTES:
            log.warning("run %s: ignoring %s of %s bytes", state.run.pk, path, size)
            continue
        data = path.read_bytes()
        errored = retrying(state_services.errored_state_keep, run=state.run, data=data)
        kept.append(errored)
    if not kept:
        return ""
    message = (
        f"Terraform could not save its state to Hangar and wrote {ERRORED_STATE} instead. Hangar kept it with this "
        f"run (errored state #{', #'.join(str(e.pk) for e in kept)}, {kept[-1].size} bytes): it records the resources "
        "this run created or changed. An admin can download it and push it back as the next state version on the "
        "deployment's STATE page (or `manage.py state_push_errored <id>`); deploy again only after that."
    )
    state.log.append(message, level="error", type="hangar")
    return message


def _execute(state: RunState, workspace: Path) -> str:
    """Plan (and maybe apply at once), or apply a confirmed run's saved plan. Returns PARKED when the
    run now waits at `planned` for a person, else "" (it succeeded)."""
    run = state.run
    deployment = run.deployment
    confirmed = run.status == RunStatus.APPLYING  # claimed from `confirmed`: apply the saved plan
    if run.operation == Operation.REFRESH and not confirmed:
        _check_still_deployed(run)
    workdir, env, binary = _prepare(state, workspace)
    if confirmed:
        _apply_saved(state, workdir, env, binary, fetch=True)
        return ""
    if run.operation != Operation.PLAN:
        version = re.search(r"(\d+\.\d+\.\d+)", run.terraform_version)
        seeded = retrying(
            state_services.state_seed,
            deployment_id=deployment.pk,
            run=run,
            terraform_version=version.group(1) if version else "1.0.0",
        )
        if seeded is not None:
            state.log.append(
                f"This deployment has no state yet: Hangar starts it empty (serial 0, lineage {seeded.lineage}), "
                "so that even an interrupted first apply records what it created.",
                type="hangar",
            )
    # No state lock while planning: the run holds its deployment's slot, a plan writes no state, and the apply
    # takes the lock and refuses a plan whose state changed meanwhile (Terraform and Hangar both check).
    plan = [binary, "plan", "-json", "-input=false", "-lock=false", f"-out={PLAN_FILE}"]
    if run.operation == Operation.DESTROY:
        plan.append("-destroy")
    elif run.operation == Operation.REFRESH:
        plan.append("-refresh-only")  # Accept reality: the state takes what exists; no resource changes
    _step(state, "plan", plan, workdir, env)
    found = state.findings
    if _applies_at_once(run, found):
        _apply_at_once(state, workdir, env, binary)
        return ""
    saved, readable = _save_plan(state, workdir, env, binary)
    summary = readable.headline if saved.has_changes else "No changes"
    retrying(
        runs.run_transition,
        run=run,
        status=RunStatus.PLANNED,
        note=summary,
        to_add=readable.add,
        to_change=readable.change,
        to_destroy=readable.destroy,
        resources=found.resource_list(),
    )
    problems = protected_table_problems(saved.plan_json, destroy=run.operation == Operation.DESTROY)
    if problems:
        raise StepFailed("The plan would delete protected tables, so nothing was applied:\n" + "\n".join(problems))
    if run.operation == Operation.PLAN:
        state.log.append(f"Plan saved: {summary}. A plan is never applied; DEPLOY plans again.", type="hangar")
        return ""
    if not saved.has_changes:
        run.outputs = _planned_outputs(saved.plan_json)
        retrying(run.save, update_fields=["outputs"])
        if run.operation == Operation.REFRESH:
            state.log.append(
                "No changes: nothing was changed outside Hangar, so the state already holds what exists.", type="hangar"
            )
        else:
            state.log.append(
                "No changes: the environment already matches this version; nothing to apply.", type="hangar"
            )
        return ""
    reasons = runs.confirmation_reasons(run, destroys=saved.destroys)
    if reasons:
        retrying(runs.run_park, run=run, reasons=reasons)
        state.log.append(
            f"The plan is saved and waits for a person: {'; '.join(reasons)}. Review it on the run page, then "
            "confirm or discard it.",
            type="hangar",
        )
        return PARKED
    retrying(
        runs.run_transition,
        run=run,
        status=RunStatus.CONFIRMED,
        note=f"applied automatically: {deployment.environment.name} applies plans that destroy nothing",
    )
    _apply_saved(state, workdir, env, binary, fetch=False)
    return ""


def _check_still_deployed(run: Run) -> None:
    """A refresh was requested for the deployed version; a run queued ahead of it may have deployed another."""
    now = retrying(
        lambda: Run.objects.filter(pk=run.pk).values_list("deployment__deployed_artifact__version", flat=True).first()
    )
    if now != run.artifact.version:
        raise StepFailed(
            f"Accept reality works on the deployed version only, and {run.deployment} now runs "
            f"{now or 'nothing'}, not {run.artifact.version}: a run before this one changed it. Nothing was done."
        )


def _prepare(state: RunState, workspace: Path) -> tuple[Path, dict[str, str], str]:
    """Sandbox check, the artifact unpacked and verified, credentials, and `terraform init`."""
    run = state.run
    deployment = run.deployment
    environment = deployment.environment.definition
    _announce_sandbox(state)
    state.log.append(f"Unpacking {run.artifact} and verifying its checksums.", type="hangar")
    artifact_unpack(artifact=run.artifact, dest=workspace / "artifact")
    workdir = environment_workdir(workspace / "artifact", deployment.environment, deployment.target)
    if not workdir.is_dir():
        raise StepFailed(f"Artifact {run.artifact.version} has no infrastructure/{environment}/ folder.")
    if deployment.environment.is_sandbox:
        state.log.append(
            f"Sandbox {deployment.environment.name}: the {environment} definition of {run.artifact.version}, "
            f"deployed into the sandbox's own cloud project {deployment.environment.gcp_project_id} "
            "(local.project_id set by Hangar; tables not protected from deletion).",
            type="hangar",
        )
    credential = retrying(state_services.credential_mint, run=run)
    localcloud_token = None
    if deployment.target == Target.LOCAL:
        cloud = cloud_access.cloud_token_mint(run)
        state.cloud_token_id = cloud["id"]
        localcloud_token = cloud["token"]
        state.log.append(
            f"Local cloud token for {cloud['principal']}: may change {', '.join(cloud['projects'])} only.",
            type="hangar",
        )
    else:
        # No key anywhere: the worker's own identity impersonates the deployer account providers.tf names.
        state.log.append(
            f"Target {deployment.target}: the provider impersonates the deployer account named in providers.tf "
            "with the worker's own identity (application default credentials); Hangar holds no key.",
            type="hangar",
        )
    env = toolchain.terraform_env(
        workspace,
        localcloud_token=localcloud_token,
        extra=state_services.backend_env(
            base_url=settings.SITE_URL, deployment_id=deployment.pk, credential=credential
        ),
    )
    binary = toolchain.terraform_binary()
    run.terraform_version = toolchain.terraform_version(binary)
    retrying(run.save, update_fields=["terraform_version"])
    state.log.append(
        f"{run.terraform_version}; {run.operation} of {run.artifact.version} on {deployment}.", type="hangar"
    )
    _step(state, "init", [binary, "init", "-input=false", "-no-color"], workdir, env)
    return workdir, env, binary


def _applies_at_once(run: Run, found: RunFindings) -> bool:
    """From the plan's own summary: an apply that changes something, destroys and replaces nothing (a
    replacement counts as a removal), where the environment applies automatically and no approval is due.
    Anything else, "No changes" included (outputs may still change), is decided on the plan's JSON."""
    return (
        run.operation == Operation.APPLY
        and run.auto_apply
        and not run.approval_required
        and found.planned
        and found.to_destroy == 0
        and bool(found.to_add or found.to_change)
    )


def _apply_at_once(state: RunState, workdir: Path, env: dict[str, str], binary: str) -> None:
    """Store the binary plan and apply it at once. `terraform show -json` of it runs meanwhile, at low CPU
    priority, and a thread stores its review as soon as it is read, while the apply goes on (the review
    cannot change the decision: nothing is destroyed). The run ends once both are done."""
    run, found = state.run, state.findings
    data = _plan_file(workdir)

    def store_and_confirm() -> SavedPlan:  # one transaction: the plan, `planned` and `confirmed` commit together
        with transaction.atomic():
            saved = plans.plan_store_file(run=run, data=data)
            runs.run_transition(
                run=run,
                status=RunStatus.PLANNED,
                note=f"{found.to_add} to add, {found.to_change} to change, 0 to destroy",
                to_add=found.to_add,
                to_change=found.to_change,
                to_destroy=0,
                resources=found.resource_list(),
            )
            runs.run_transition(
                run=run,
                status=RunStatus.CONFIRMED,
                note=f"applied automatically: {run.deployment.environment.name} applies plans that destroy nothing",
            )
        return saved

    saved = retrying(store_and_confirm)
    show = _spawn_quiet([binary, "show", "-json", PLAN_FILE], state, workdir, env)
    review = threading.Thread(
        target=_review_beside_apply, args=(state, workdir, saved, show), name=f"run-{run.pk}-review", daemon=True
    )
    review.start()
    try:
        _apply_saved(state, workdir, env, binary, fetch=False, saved=saved)
    except BaseException:
        show.finish(kill=True)
        raise
    finally:
        review.join()


def _review_beside_apply(state: RunState, workdir: Path, saved: SavedPlan, show: "_QuietCommand") -> None:
    """Store the readable plan of a plan being applied, from `show -json` (a thread of its own: its failure is
    said in the log and never fails the run, whose plan is applied either way)."""
    try:
        show.finish(kill=False)
        _describe_plan(state, workdir, saved, json.loads(show.output(limit=PLAN_JSON_MAX_BYTES)))
    except Exception as error:
        if show.killed:
            return  # the apply failed, and its error is the run's
        if not isinstance(error, (ValueError, StepFailed)):
            log.exception("run %s: reading the plan for review failed", state.run.pk)
        with contextlib.suppress(Exception):
            state.log.append(
                f"The plan was applied, but Hangar could not read it for review: {error}", level="warn", type="hangar"
            )
    finally:
        connection.close()  # this thread's own database connection


def _plan_file(workdir: Path) -> bytes:
    path = workdir / PLAN_FILE
    if path.is_symlink() or not path.is_file():  # written in the sandbox: never follow a link out of it
        raise StepFailed(f"terraform plan wrote no plan file ({PLAN_FILE}).")
    if path.stat().st_size > PLAN_FILE_MAX_BYTES:
        raise StepFailed(f"The saved plan is larger than {PLAN_FILE_MAX_BYTES} bytes; Hangar does not keep it.")
    return path.read_bytes()


def _save_plan(state: RunState, workdir: Path, env: dict[str, str], binary: str) -> tuple[SavedPlan, object]:
    """Store the plan Terraform just saved, with `terraform show -json` of it and its review."""
    saved = retrying(plans.plan_store_file, run=state.run, data=_plan_file(workdir))
    raw = _capture(state, "show", [binary, "show", "-json", PLAN_FILE], workdir, env, limit=PLAN_JSON_MAX_BYTES)
    try:
        plan_json = json.loads(raw)
    except ValueError:
        raise StepFailed("terraform show -json printed no plan that Hangar could read.") from None
    return saved, _describe_plan(state, workdir, saved, plan_json)


def _describe_plan(state: RunState, workdir: Path, saved: SavedPlan, plan_json: dict):
    """Read the plan in the DSL's terms (asking the cloud for the rows of tables it deletes) and store that."""
    environment = state.run.deployment.environment.definition
    root = workdir.parent.parent  # the unpacked artifact
    sources = {
        name: (root / name).read_text(errors="replace")
        for name in plans.source_paths(environment, _artifact_files(workdir))
    }
    readable, counts = plans.plan_review(
        plan_json, sources=sources, environment=environment, refresh_only=state.run.operation == Operation.REFRESH
    )
    retrying(plans.plan_describe, saved=saved, plan_json=plan_json, readable=readable, row_counts=counts)
    wakeups.notify(state.run.pk)
    return readable


class _QuietCommand:
    """A Terraform command run beside the step in progress, whose output is data (`show -json`)."""

    def __init__(self, process: subprocess.Popen, out_path: Path):
        self.process, self.out_path = process, out_path
        self.killed = False  # stopped because the step beside it failed: its output is no one's concern

    def finish(self, *, kill: bool) -> None:
        if kill and self.process.poll() is None:
            self.killed = True
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def output(self, *, limit: int) -> bytes:
        if self.process.returncode != 0:
            raise StepFailed(f"terraform show exited with code {self.process.returncode}")
        if self.out_path.stat().st_size > limit:
            raise StepFailed(f"terraform show printed more than {limit} bytes")
        return self.out_path.read_bytes()


def _spawn_quiet(args: list[str], state: RunState, workdir: Path, env: dict[str, str]) -> _QuietCommand:
    assert state.workspace is not None
    out_path = state.workspace / "show.out"
    with open(out_path, "wb") as out:
        process = _popen(state, args, workdir, env, stdout=out, stderr=subprocess.DEVNULL, side=True)
    return _QuietCommand(process, out_path)


def _artifact_files(workdir: Path) -> list[str]:
    root = workdir.parent.parent  # the unpacked artifact
    return [
        str(path.relative_to(root))
        for path in (root / "infrastructure").rglob("*")
        if path.is_file() and not path.is_symlink()
    ]


def _planned_outputs(plan_json: dict) -> dict:
    outputs = ((plan_json.get("planned_values") or {}).get("outputs")) or {}
    return {
        name: ("(sensitive)" if spec.get("sensitive") else spec.get("value"))
        for name, spec in outputs.items()
        if isinstance(spec, dict)
    }


def _apply_saved(
    state: RunState, workdir: Path, env: dict[str, str], binary: str, *, fetch: bool, saved: SavedPlan | None = None
) -> None:
    """Apply exactly the stored plan (`saved`, or the run's as Hangar holds it): its SHA-256 must match, and the
    state must be the one it was made against (Terraform checks that too). `fetch`: write it from Hangar into
    this new workspace."""
    run = state.run
    saved = saved or SavedPlan.objects.get(run_id=run.pk)
    path = workdir / PLAN_FILE
    if fetch:
        path.unlink(missing_ok=True)
        path.write_bytes(bytes(saved.data))
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != saved.sha256:
        raise StepFailed("The plan file does not match the saved plan's SHA-256; refusing to apply it.")
    stale = plans.plan_stale_reason(saved, deployment_id=run.deployment_id)
    if stale:
        raise StepFailed(f"The saved plan is stale: {stale}. Nothing was applied.")
    if run.status != RunStatus.APPLYING:
        retrying(runs.run_transition, run=run, status=RunStatus.APPLYING, note="applying the saved plan")
    state.log.append(f"Applying the saved plan (SHA-256 {saved.sha256[:12]}…).", type="hangar")
    _step(state, "apply", [binary, "apply", "-json", "-input=false", PLAN_FILE], workdir, env)
    run.outputs, run.resources = state.findings.outputs, state.findings.resource_list()
    retrying(run.save, update_fields=["outputs", "resources"])


def _capture(state: RunState, name: str, args: list[str], workdir: Path, env: dict[str, str], *, limit: int) -> bytes:
    """Run a Terraform command whose standard output is data (`show -json`), not log lines."""
    assert state.workspace is not None
    out_path = state.workspace / f"{name}.out"
    with state.lock:
        if state.stop_reason:
            raise Stopped()
        with open(out_path, "wb") as out:
            state.process = _popen(state, args, workdir, env, stdout=out, stderr=subprocess.PIPE)
    process = state.process
    try:
        _, errors = process.communicate()
    except BaseException:
        _stop_process(process)
        raise
    finally:
        with state.lock:
            state.process = None
    if state.stop_reason:
        state.log.append(state.stop_reason, level="warn", type="hangar")
        raise Stopped()
    if process.returncode != 0:
        text = errors.decode("utf-8", "replace").strip()[-4000:]
        raise StepFailed(f"terraform {name} failed:\n{text or f'exit code {process.returncode}'}")
    if out_path.stat().st_size > limit:
        raise StepFailed(f"terraform {name} printed more than {limit} bytes; Hangar does not keep that.")
    return out_path.read_bytes()


def _announce_sandbox(state: RunState) -> None:
    """Refuse to run when Terraform cannot be sandboxed; say so in the log and on the run when isolation is off."""
    state.run.isolated = sandbox.enabled()
    retrying(state.run.save, update_fields=["isolated"])
    if not sandbox.enabled():
        state.log.append(
            "RUN_SANDBOX=off: this run is NOT isolated. Its Terraform can read the worker's files and other runs' "
            "workspaces. An operator turned the sandbox off; see docs/security.md.",
            level="warn",
            type="hangar",
        )
        return
    sandbox.check()
    state.log.append(
        "Terraform runs in a sandbox: it sees only this run's workspace and the read-only toolchain.", type="hangar"
    )


def _sandboxed(state: RunState, args: list[str], workdir: Path) -> list[str]:
    if not sandbox.enabled():
        return args
    return sandbox.terraform_command(args, workspace=state.workspace, workdir=workdir)


# Lines that come within this long of the first one waiting are stored in one insert, with one wake-up for
# every stream following the run: Terraform writes in bursts (a line per resource), and a line costs the
# database and each live stream less in company. The live log is this much later at most.
LINE_BATCH_WINDOW = 0.02


def _line_batches(stream, limit: int = 500, window: float = LINE_BATCH_WINDOW):
    """Lines as they come, grouped when several come together: one insert per group.

    A reader thread keeps the pipe drained, so Terraform never waits on the database."""
    pending: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    def read() -> None:
        for raw in stream:
            pending.put(raw)
        pending.put(None)

    threading.Thread(target=read, name="terraform-output", daemon=True).start()
    done = False
    while not done:
        batch = []
        item = pending.get()
        deadline = time.monotonic() + window
        while item is not None:
            batch.append(item)
            if len(batch) >= limit:
                break
            try:
                item = pending.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break  # the burst is over: store what came
        else:
            done = True  # the stream ended
        if batch:
            yield batch


def _stop_process(process: subprocess.Popen) -> None:
    """Stop a step's Terraform now and wait until its whole process group is gone.

    SIGINT first, so Terraform can finish the call in flight, save its state and unlock; after
    RUN_CANCEL_GRACE seconds SIGKILL to the group (the sandbox, Terraform and its providers)."""
    if process.poll() is None:
        for pid in _terraform_pids(process.pid) or [process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=settings.RUN_CANCEL_GRACE)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _store_output(state: RunState, process: subprocess.Popen, name: str) -> bool:
    """Store Terraform's output as it comes; True when resources changed since they were last saved."""
    run = state.run
    assert process.stdout is not None
    dirty_resources = False
    last_resource_save = 0.0
    for batch in _line_batches(process.stdout):
        lines = [parse_line(raw.decode("utf-8", "replace"), default_type=name) for raw in batch]
        state.log.store_many(lines)
        for line in lines:
            dirty_resources = state.findings.observe(line) or dirty_resources
        if dirty_resources and time.monotonic() - last_resource_save > 0.5:
            retrying(Run.objects.filter(pk=run.pk).update, resources=state.findings.resource_list())
            wakeups.notify(run.pk)
            dirty_resources, last_resource_save = False, time.monotonic()
    return dirty_resources


def _step(
    state: RunState,
    name: str,
    args: list[str],
    workdir: Path,
    env: dict[str, str],
) -> None:
    """Run one Terraform command, storing each line as it comes; raise if it fails or is stopped."""
    run = state.run
    state.log.recent_plain.clear()
    with state.lock:
        if state.stop_reason:
            raise Stopped()
        state.process = _popen(state, args, workdir, env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    process = state.process
    try:
        dirty_resources = _store_output(state, process, name)
    except BaseException:
        # Leaving the step (a database error storing a line or a status, a signal): Terraform must not
        # outlive it, or the run ends, its slot goes to the next run and this Terraform keeps applying.
        _stop_process(process)
        with state.lock:
            state.process = None
        raise
    code = process.wait()
    with state.lock:
        state.process = None
    if dirty_resources:
        retrying(Run.objects.filter(pk=run.pk).update, resources=state.findings.resource_list())
    if state.stop_reason:
        state.log.append(state.stop_reason, level="warn", type="hangar")
        raise Stopped()
    if code != 0:
        errors = state.findings.errors or list(state.log.recent_plain)
        summary = "\n".join(errors) if errors else f"terraform {name} exited with code {code}; see the log."
        raise StepFailed(f"terraform {name} failed:\n{summary}")
