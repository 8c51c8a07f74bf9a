"""Errors the local cloud raises; the provider turns them into Terraform diagnostics.

Each class carries the API's error code and HTTP status, so the server answers with them and
the client (``localcloud.client``) raises the same class again on the other side: a message
travels verbatim from the store to a Terraform run's log.
"""


class LocalCloudError(Exception):
    """Base class: something the operator or the configuration must fix."""

    code = "FAILED_PRECONDITION"
    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidValue(LocalCloudError):
    """A value is malformed; the message names the field, what was found and what is allowed."""

    code = "INVALID_ARGUMENT"

    def __init__(self, field: str, found: object, allowed: str) -> None:
        super().__init__(f"{field}: invalid value {found!r}; {allowed}", field)
        self.found = found
        self.allowed = allowed


class NotFound(LocalCloudError):
    """A resource the request depends on does not exist."""

    code = "NOT_FOUND"
    status = 404


class AlreadyExists(LocalCloudError):
    """Creating something that is already there (import it instead)."""

    code = "ALREADY_EXISTS"
    status = 409


class Conflict(LocalCloudError):
    """The request cannot be carried out in the current state (e.g. a non-empty bucket)."""

    code = "FAILED_PRECONDITION"
    status = 409


class Unauthenticated(LocalCloudError):
    """No token, or one the server does not accept (unknown, expired, revoked)."""

    code = "UNAUTHENTICATED"
    status = 401


class PermissionDenied(LocalCloudError):
    """A valid token asked for something outside its projects (or an operator-only call)."""

    code = "PERMISSION_DENIED"
    status = 403


class Unavailable(LocalCloudError):
    """The local cloud service cannot be reached (client side only)."""

    code = "UNAVAILABLE"
    status = 503


BY_CODE = {
    cls.code: cls
    for cls in (LocalCloudError, InvalidValue, NotFound, AlreadyExists, Unauthenticated, PermissionDenied, Unavailable)
}
# Conflict shares FAILED_PRECONDITION with the base class; the status tells them apart.
CONFLICT_STATUS = Conflict.status


def from_payload(status: int, payload: dict) -> LocalCloudError:
    """The error a server answer describes, as the class the server raised."""
    code = str(payload.get("code") or "")
    message = str(payload.get("message") or f"local cloud answered HTTP {status}")
    field = payload.get("field")
    cls = Conflict if code == Conflict.code and status == CONFLICT_STATUS else BY_CODE.get(code, LocalCloudError)
    if cls is InvalidValue:
        error = LocalCloudError.__new__(InvalidValue)
        LocalCloudError.__init__(error, message, field)
        error.found, error.allowed = payload.get("found"), str(payload.get("allowed") or "")
        return error
    return cls(message, field)
