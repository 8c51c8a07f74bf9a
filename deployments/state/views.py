"""The state backend's HTTP endpoint Terraform talks to, and the State page of a deployments-table row.

The rules live in `services`; these only speak HTTP."""

import base64
import binascii
import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from deployments.drift import services as drift
from deployments.pages.rows import row_context, row_deployment
from deployments.plans import speculative
from deployments.runs import services as run_services
from deployments.state import services as state_services
from deployments.state.models import ErroredState, StateVersion
from deployments.state.services import StateError
from onboarding.access import project_for_user


def _basic_auth(request) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        raise StateError(401, "HTTP Basic credentials are required; each run gets its own.")
    try:
        username, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise StateError(401, "Malformed HTTP Basic credentials.") from None
    return username, password


READ_CHUNK = 256 * 1024
MAX_LOCK_INFO_BYTES = 64 * 1024


def _read_body(request, limit: int, what: str) -> bytes:
    """The request body read from the server's stream in chunks, refused with 413 above `limit`.

    Django's `request.body` is capped by DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB), which is meant for
    forms, not for Terraform states; this endpoint sets its own limit instead."""
    too_large = StateError(
        413,
        f"The {what} is larger than the limit of {limit} bytes that Hangar's state backend accepts; "
        "it was not stored. Terraform keeps it in errored.tfstate, which Hangar attaches to the run.",
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large
    chunks, size = [], 0
    while chunk := request.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _json_body(request) -> dict | None:
    raw = _read_body(request, MAX_LOCK_INFO_BYTES, "lock info")
    if not raw:
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        raise StateError(400, "The body is not JSON lock info.") from None
    if not isinstance(body, dict):
        raise StateError(400, "The body is not JSON lock info.")
    return body


# Read-only jobs by the prefix of their state-backend username (plans/readonly.py).
READERS = {
    speculative.USERNAME_PREFIX: speculative.speculative_authenticate,
    drift.USERNAME_PREFIX: drift.drift_check_authenticate,
}


@csrf_exempt
def state_endpoint(request, deployment_id: int):
    try:
        username, password = _basic_auth(request)
        reader = next((READERS[prefix] for prefix in READERS if username.startswith(prefix)), None)
        if reader is not None:  # a speculative plan or a drift check: it may read, never change
            if request.method != "GET":
                raise StateError(403, f"A read-only plan may only read the state; {request.method} is refused.")
            reader(deployment_id=deployment_id, username=username, password=password)
            run = None
        else:
            run = state_services.authenticate(deployment_id=deployment_id, username=username, password=password)
        if request.method == "GET":
            current = state_services.state_current(deployment_id=deployment_id)
            if current is None:
                return HttpResponse(status=204)
            return HttpResponse(bytes(current.data), content_type="application/json")
        if request.method == "POST":
            state_services.state_write(
                deployment_id=deployment_id,
                body=_read_body(request, state_services.MAX_STATE_BYTES, "state"),
                lock_id=request.GET.get("ID"),
                run=run,
            )
            return HttpResponse(status=200)
        if request.method == "LOCK":
            state_services.state_lock(deployment_id=deployment_id, info=_json_body(request) or {}, run=run)
            return HttpResponse(status=200)
        if request.method == "UNLOCK":
            state_services.state_unlock(deployment_id=deployment_id, info=_json_body(request))
            return HttpResponse(status=200)
        raise StateError(405, f"{request.method} is not supported; use GET, POST, LOCK or UNLOCK.")
    except StateError as error:
        if error.body is not None:
            return JsonResponse(error.body, status=error.status)
        response = HttpResponse(str(error), status=error.status, content_type="text/plain")
        if error.status == 401:
            response["WWW-Authenticate"] = 'Basic realm="Hangar state"'
        return response


def deployment_state(request, slug, environment, target):
    project = project_for_user(request.user, slug)
    deployment = row_deployment(project, environment, target)
    versions = (
        StateVersion.objects.filter(deployment=deployment).select_related("run").defer("data").order_by("-id")
        if deployment
        else []
    )
    context = row_context(project, environment, target, deployment)
    context["page"] = Paginator(versions, 25).get_page(request.GET.get("page"))
    context["errored_states"] = (
        list(ErroredState.objects.filter(deployment=deployment).select_related("run", "pushed_by").defer("data"))
        if deployment
        else []
    )
    return render(request, "deployments/deployment_state.html", context)


def state_version_download(request, slug, environment, target, version_id):
    if not request.user.is_superuser:
        raise PermissionDenied("Only admins can download Terraform state: it may hold secrets.")
    project = project_for_user(request.user, slug)
    version = get_object_or_404(
        StateVersion, pk=version_id, deployment__environment__project=project, deployment__environment__name=environment
    )
    response = HttpResponse(bytes(version.data), content_type="application/json")
    name = f"{version.deployment.environment.gcp_project_id}-{target}-serial-{version.serial}.tfstate"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
def deployment_force_unlock(request, slug, environment, target):
    if not request.user.is_superuser:
        raise PermissionDenied("Only admins can force-unlock a state.")
    project = project_for_user(request.user, slug)
    deployment = row_deployment(project, environment, target)
    if deployment is not None:
        state_services.state_force_unlock(deployment=deployment, user=request.user)
        messages.success(request, "The state lock was released. This was recorded in the audit trail.")
    return redirect("deployment_state", slug=slug, environment=environment, target=target)


def _errored_state(request, slug, environment, errored_id) -> ErroredState:
    if not request.user.is_superuser:
        raise PermissionDenied("Only admins can handle errored Terraform state: it may hold secrets.")
    project = project_for_user(request.user, slug)
    return get_object_or_404(
        ErroredState, pk=errored_id, deployment__environment__project=project, deployment__environment__name=environment
    )


def errored_state_download(request, slug, environment, target, errored_id):
    errored = _errored_state(request, slug, environment, errored_id)
    response = HttpResponse(bytes(errored.data), content_type="application/json")
    name = f"{errored.deployment.environment.gcp_project_id}-{target}-run-{errored.run_id}-errored.tfstate"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
def errored_state_push(request, slug, environment, target, errored_id):
    errored = _errored_state(request, slug, environment, errored_id)
    try:
        version = state_services.errored_state_push(errored=errored, user=request.user)
    except StateError as error:
        messages.error(request, f"The errored state was not pushed: {error}")
    else:
        messages.success(
            request,
            f"Errored state #{errored.pk} is now state serial {version.serial}. This was recorded in the audit trail.",
        )
    return redirect("deployment_state", slug=slug, environment=environment, target=target)


@require_POST
def deployment_free_slot(request, slug, environment, target):
    """An admin frees a stuck queue: the run holding the slot is failed and the next one starts."""
    if not request.user.is_superuser:
        raise PermissionDenied("Only admins can free a deployment's slot.")
    project = project_for_user(request.user, slug)
    deployment = row_deployment(project, environment, target)
    run = run_services.run_free_slot(deployment=deployment, user=request.user) if deployment else None
    if run is None:
        messages.info(request, "No run holds this deployment's slot.")
    else:
        messages.success(
            request, f"Run #{run.pk} no longer holds the slot; the next queued run starts. Recorded in the audit trail."
        )
    return redirect("deployment_state", slug=slug, environment=environment, target=target)
