"""Errors the local cloud raises; the provider turns them into Terraform diagnostics."""


class LocalCloudError(Exception):
    """Base class: something the operator or the configuration must fix."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidValue(LocalCloudError):
    """A value is malformed; the message names the field, what was found and what is allowed."""

    def __init__(self, field: str, found: object, allowed: str) -> None:
        super().__init__(f"{field}: invalid value {found!r}; {allowed}", field)
        self.found = found
        self.allowed = allowed


class NotFound(LocalCloudError):
    """A resource the request depends on does not exist."""


class AlreadyExists(LocalCloudError):
    """Creating something that is already there (import it instead)."""


class Conflict(LocalCloudError):
    """The request cannot be carried out in the current state (e.g. a non-empty bucket)."""
