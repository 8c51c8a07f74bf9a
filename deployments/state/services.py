"""Terraform's standard `http` state backend, served by Hangar.

Every state version is kept (never overwritten). Writes must move forward:
same lineage, a higher serial, and the lock ID of the current holder.
Credentials are minted per run and accepted only for that run's deployment
while the run is active."""

import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from deployments.runs.choices import ACTIVE_STATUSES
from deployments.runs.models import Deployment, Run
from deployments.state.models import ErroredState, StateVersion
from portal.audit import audit_record

MAX_STATE_BYTES = 64 * 1024 * 1024  # the endpoint reads bodies up to this itself (Django's own limit is 2.5 MiB)


class StateError(Exception):
    """A refused request: `status` is the HTTP status Terraform gets back."""

    def __init__(self, status: int, message: str, body: dict | None = None):
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class RunCredential:
    username: str
    password: str


def _digest(password: str) -> str:
    # The password is 256 random bits: a fast hash is enough, and Terraform
    # sends it on every request.
    return hashlib.sha256(password.encode()).hexdigest()


def credential_mint(*, run: Run) -> RunCredential:
    """New HTTP Basic credentials for one run; only the digest is stored."""
    password = secrets.token_urlsafe(32)
    Run.objects.filter(pk=run.pk).update(state_credential=_digest(password))
    return RunCredential(username=f"run-{run.pk}", password=password)


def backend_env(*, base_url: str, deployment_id: int, credential: RunCredential) -> dict[str, str]:
    """How Terraform's http backend finds this state and proves who it is: environment
    variables only, so nothing of it is written into the workspace or the artifact."""
    address = f"{base_url.rstrip('/')}/state/{deployment_id}/"
    return {
        "TF_HTTP_ADDRESS": address,
        "TF_HTTP_LOCK_ADDRESS": address,
        "TF_HTTP_UNLOCK_ADDRESS": address,
        "TF_HTTP_USERNAME": credential.username,
        "TF_HTTP_PASSWORD": credential.password,
        # Terraform retries a request that fails with a 5xx or no answer (Hangar's database restarting):
        # up to 8 times, 1 to 10 s apart, so a short outage does not cost the state.
        "TF_HTTP_RETRY_MAX": "8",
        "TF_HTTP_RETRY_WAIT_MIN": "1",
        "TF_HTTP_RETRY_WAIT_MAX": "10",
    }


def credential_revoke(*, run: Run) -> None:
    Run.objects.filter(pk=run.pk).update(state_credential="")


def authenticate(*, deployment_id: int, username: str, password: str) -> Run:
    """The active run these credentials belong to, if they may touch this deployment's state."""
    denied = StateError(403, "These credentials are not valid for this state (wrong, expired, or another run's).")
    if not username.startswith("run-") or not username[4:].isdigit():
        raise denied
    run = Run.objects.filter(pk=int(username[4:])).only("id", "deployment_id", "status", "state_credential").first()
    if (
        run is None
        or not run.state_credential
        or not hmac.compare_digest(run.state_credential, _digest(password))
        or run.deployment_id != deployment_id
        or run.status not in ACTIVE_STATUSES
    ):
        raise denied
    return run


def state_current(*, deployment_id: int) -> StateVersion | None:
    return StateVersion.objects.filter(deployment_id=deployment_id).order_by("-id").first()


def _lock_body(deployment: Deployment) -> dict:
    return deployment.lock_info or {"ID": deployment.lock_id}


def _parse(body: bytes) -> tuple[int, str]:
    if len(body) > MAX_STATE_BYTES:
        raise StateError(413, f"The state is larger than the limit of {MAX_STATE_BYTES} bytes; it was not stored.")
    try:
        state = json.loads(body)
        return int(state["serial"]), str(state["lineage"])
    except (ValueError, KeyError, TypeError):
        raise StateError(400, "The body is not a Terraform state (JSON with serial and lineage).") from None


def _store_forward(*, deployment: Deployment, body: bytes, serial: int, lineage: str, run: Run | None) -> StateVersion:
    """Keep `body` as the next version if it moves the state forward (call with the deployment row locked)."""
    current = state_current(deployment_id=deployment.pk)
    sha256 = hashlib.sha256(body).hexdigest()
    if current is not None:
        if current.sha256 == sha256:
            return current  # Terraform re-sent what we have: nothing to keep twice.
        if lineage != current.lineage:
            raise StateError(
                409,
                f"State lineage {lineage!r} differs from the stored {current.lineage!r}; refusing to replace it.",
            )
        if serial <= current.serial:
            raise StateError(
                409, f"State serial {serial} does not move forward from the stored serial {current.serial}."
            )
    return StateVersion.objects.create(
        deployment=deployment, serial=serial, lineage=lineage, sha256=sha256, size=len(body), data=body, run=run
    )


def state_write(*, deployment_id: int, body: bytes, lock_id: str | None, run: Run | None) -> StateVersion:
    serial, lineage = _parse(body)
    with transaction.atomic():
        deployment = Deployment.objects.select_for_update().get(pk=deployment_id)
        if not deployment.lock_id:
            raise StateError(423, "The state is not locked; lock it before writing.")
        if lock_id != deployment.lock_id:
            raise StateError(409, f"Lock ID {lock_id!r} does not hold the state lock.", _lock_body(deployment))
        return _store_forward(deployment=deployment, body=body, serial=serial, lineage=lineage, run=run)


def state_seed(*, deployment_id: int, run: Run, terraform_version: str) -> StateVersion | None:
    """Give a deployment with no state an empty one (serial 0, a new lineage) before its first apply.

    Terraform 1.0's http backend, starting from no state, forgets what it applied when it saves twice
    in one run, as an interrupted apply does (once on the interrupt, once at the end): the second save
    re-reads the first and sends it back, so resources created meanwhile never reach the state. From
    an existing state, both saves are right. Returns the new version, or None if one exists."""
    body = json.dumps(
        {
            "version": 4,
            "terraform_version": terraform_version,
            "serial": 0,
            "lineage": str(uuid.uuid4()),
            "outputs": {},
            "resources": [],
        },
        indent=2,
    ).encode()
    with transaction.atomic():
        deployment = Deployment.objects.select_for_update().get(pk=deployment_id)
        if state_current(deployment_id=deployment_id) is not None:
            return None
        serial, lineage = _parse(body)
        return _store_forward(deployment=deployment, body=body, serial=serial, lineage=lineage, run=run)


def errored_state_keep(*, run: Run, data: bytes) -> ErroredState:
    """Keep the errored.tfstate a run's Terraform wrote when it could not save its state."""
    return ErroredState.objects.create(
        deployment_id=run.deployment_id, run=run, data=data, sha256=hashlib.sha256(data).hexdigest(), size=len(data)
    )


def errored_state_push(*, errored: ErroredState, user) -> StateVersion:
    """An admin stores a kept errored state as the next state version: same lineage, a higher serial,
    and no run or lock on the state meanwhile. Audited."""
    body = bytes(errored.data)
    serial, lineage = _parse(body)
    with transaction.atomic():
        deployment = Deployment.objects.select_for_update().get(pk=errored.deployment_id)
        errored = ErroredState.objects.select_for_update().get(pk=errored.pk)
        if errored.pushed_at:
            raise StateError(409, f"Errored state #{errored.pk} was already pushed (serial {serial}).")
        if deployment.active_run_id:
            raise StateError(
                409,
                f"Run #{deployment.active_run_id} holds this deployment; push when it has ended (or free the slot).",
            )
        if deployment.lock_id:
            raise StateError(409, "The state is locked; push when no Terraform holds it (or force-unlock it).")
        version = _store_forward(deployment=deployment, body=body, serial=serial, lineage=lineage, run=errored.run)
        errored.pushed_at, errored.pushed_by, errored.pushed_version = timezone.now(), user, version
        errored.save(update_fields=["pushed_at", "pushed_by", "pushed_version"])
        audit_record(
            actor=user,
            action="state.push_errored",
            obj=deployment,
            errored_state=errored.pk,
            run=errored.run_id,
            serial=serial,
            sha256=errored.sha256,
        )
    return version


def state_lock(*, deployment_id: int, info: dict, run: Run | None = None) -> None:
    lock_id = str(info.get("ID") or "")
    if not lock_id:
        raise StateError(400, "Lock info must carry an ID.")
    with transaction.atomic():
        deployment = Deployment.objects.select_for_update().get(pk=deployment_id)
        if deployment.lock_id and deployment.lock_id != lock_id:
            raise StateError(409, "The state is locked by someone else.", _lock_body(deployment))
        deployment.lock_id, deployment.lock_info, deployment.locked_at = lock_id, info, timezone.now()
        deployment.lock_run = run
        deployment.save(update_fields=["lock_id", "lock_info", "locked_at", "lock_run"])


def state_unlock(*, deployment_id: int, info: dict | None) -> None:
    """Release the lock. Terraform re-sends the lock info; `force-unlock` sends no body."""
    with transaction.atomic():
        deployment = Deployment.objects.select_for_update().get(pk=deployment_id)
        if not deployment.lock_id:
            return
        if info is not None and str(info.get("ID") or "") != deployment.lock_id:
            raise StateError(409, "That lock ID does not hold the state lock.", _lock_body(deployment))
        _clear_lock(deployment)


def _clear_lock(deployment: Deployment) -> None:
    deployment.lock_id, deployment.lock_info, deployment.locked_at, deployment.lock_run = "", {}, None, None
    deployment.save(update_fields=["lock_id", "lock_info", "locked_at", "lock_run"])


def state_release_for_run(*, run: Run) -> bool:
    """Free a lock a run's Terraform left behind (it was killed before UNLOCK)."""
    with transaction.atomic():
        deployment = Deployment.objects.select_for_update().get(pk=run.deployment_id)
        if deployment.lock_id and deployment.lock_run_id == run.pk:
            _clear_lock(deployment)
            return True
    return False


def state_force_unlock(*, deployment: Deployment, user) -> None:
    """An admin frees a stuck lock; audited with what it held."""
    with transaction.atomic():
        deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
        held = dict(deployment.lock_info) or {"ID": deployment.lock_id}
        if not deployment.lock_id:
            return
        _clear_lock(deployment)
        audit_record(actor=user, action="state.force_unlock", obj=deployment, lock=held)
