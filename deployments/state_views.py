"""HTTP endpoints of the state backend; the rules live in state_backend."""

import base64
import binascii
import json

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from deployments import state_backend
from deployments.state_backend import StateError


def _basic_auth(request) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        raise StateError(401, "HTTP Basic credentials are required; each run gets its own.")
    try:
        username, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise StateError(401, "Malformed HTTP Basic credentials.") from None
    return username, password


def _json_body(request) -> dict | None:
    if not request.body:
        return None
    try:
        body = json.loads(request.body)
    except ValueError:
        raise StateError(400, "The body is not JSON lock info.") from None
    if not isinstance(body, dict):
        raise StateError(400, "The body is not JSON lock info.")
    return body


@csrf_exempt
def state_endpoint(request, deployment_id: int):
    try:
        username, password = _basic_auth(request)
        run = state_backend.authenticate(deployment_id=deployment_id, username=username, password=password)
        if request.method == "GET":
            current = state_backend.state_current(deployment_id=deployment_id)
            if current is None:
                return HttpResponse(status=204)
            return HttpResponse(bytes(current.data), content_type="application/json")
        if request.method == "POST":
            state_backend.state_write(
                deployment_id=deployment_id, body=request.body, lock_id=request.GET.get("ID"), run=run
            )
            return HttpResponse(status=200)
        if request.method == "LOCK":
            state_backend.state_lock(deployment_id=deployment_id, info=_json_body(request) or {}, run=run)
            return HttpResponse(status=200)
        if request.method == "UNLOCK":
            state_backend.state_unlock(deployment_id=deployment_id, info=_json_body(request))
            return HttpResponse(status=200)
        raise StateError(405, f"{request.method} is not supported; use GET, POST, LOCK or UNLOCK.")
    except StateError as error:
        if error.body is not None:
            return JsonResponse(error.body, status=error.status)
        response = HttpResponse(str(error), status=error.status, content_type="text/plain")
        if error.status == 401:
            response["WWW-Authenticate"] = 'Basic realm="Hangar state"'
        return response
