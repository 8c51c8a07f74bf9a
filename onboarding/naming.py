"""Naming rules for projects and their environments.

A project is identified by its Service Control ID and a short name; each
environment becomes a GCP project id `sc-<id>-<name>-<env>`, which must be a
valid GCP project id (6–30 characters: lowercase letters, digits, hyphens;
starts with a letter; does not end with a hyphen).
"""

import re

from django.core.exceptions import ValidationError

ENVIRONMENTS = ("dev", "test", "prod")
# Environments whose plans wait for a person by default (Environment.auto_apply off).
MANUAL_APPLY_ENVIRONMENTS = ("prod",)
ENVIRONMENT_LABELS = {"dev": "Development", "test": "Test", "prod": "Production"}

_SCID = re.compile(r"(?:sc-?)?\s*([0-9]+)", re.IGNORECASE)
# The largest value Project.service_control_id (a PositiveIntegerField) holds on every database.
SERVICE_CONTROL_ID_MAX = 2**31 - 1
_PROJECT_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_GCP_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
GCP_PROJECT_ID_MAX = 30
# The longest environment suffix decides how long a name may be.
_LONGEST_SUFFIX = max(len(f"-{env}") for env in ENVIRONMENTS)


def normalise_service_control_id(raw: object) -> int:
    """Accept 123, "123", "SC-123" or "sc-123" as typed; return 123."""
    text = str(raw).strip()
    match = _SCID.fullmatch(text)
    digits = match.group(1).lstrip("0") if match else ""
    if not digits:
        raise ValidationError(
            f"{text[:40]!r} is not a Service Control ID: use a positive whole number such as 123 "
            "(SC-123 is accepted too).",
            code="invalid_service_control_id",
        )
    # Compare lengths first: int() of thousands of digits is slow or refused.
    if len(digits) > len(str(SERVICE_CONTROL_ID_MAX)) or int(digits) > SERVICE_CONTROL_ID_MAX:
        raise ValidationError(
            f"{text[:40]!r} is too large for a Service Control ID: use a whole number from 1 to "
            f"{SERVICE_CONTROL_ID_MAX}.",
            code="service_control_id_out_of_range",
        )
    return int(digits)


def project_slug(service_control_id: int, name: str) -> str:
    return f"sc-{service_control_id}-{name}"


def gcp_project_id(service_control_id: int, name: str, environment: str) -> str:
    return f"{project_slug(service_control_id, name)}-{environment}"


def max_name_length(service_control_id: int) -> int:
    return GCP_PROJECT_ID_MAX - len(f"sc-{service_control_id}-") - _LONGEST_SUFFIX


def validate_project_name(name: str) -> None:
    if not name:
        raise ValidationError("Enter a project name, for example: example.", code="required")
    if not _PROJECT_NAME.fullmatch(name):
        raise ValidationError(
            f"{name!r} is not allowed: use lowercase letters, digits and hyphens, starting with a letter "
            "(for example: data-engine).",
            code="invalid_project_name",
        )
    if name.endswith("-"):
        raise ValidationError(f"{name!r} ends with a hyphen; end it with a letter or digit.", code="trailing_hyphen")
    if "--" in name:
        raise ValidationError(f"{name!r} has two hyphens in a row; use single hyphens.", code="double_hyphen")
    if name.endswith(tuple(f"-{env}" for env in ENVIRONMENTS)):
        raise ValidationError(
            f"{name!r} ends with an environment; give the name without it (the environment part is added for you).",
            code="environment_suffix",
        )


def validate_project_identity(service_control_id: int, name: str) -> list[str]:
    """Check that every derived GCP project id is valid; return them in order."""
    ids = [gcp_project_id(service_control_id, name, env) for env in ENVIRONMENTS]
    limit = max_name_length(service_control_id)
    if len(name) > limit:
        longest = max(ids, key=len)
        raise ValidationError(
            f"The project name is too long: {longest!r} has {len(longest)} characters and a GCP project id allows "
            f"at most {GCP_PROJECT_ID_MAX}. With Service Control ID {service_control_id} the name may have at most "
            f"{limit} characters.",
            code="too_long",
        )
    for project_id in ids:
        if not _GCP_PROJECT_ID.fullmatch(project_id):
            raise ValidationError(
                f"{project_id!r} is not a valid GCP project id (6–30 lowercase letters, digits or hyphens, "
                "starting with a letter, not ending with a hyphen).",
                code="invalid_gcp_project_id",
            )
    return ids


# Sandboxes (deployments/sandboxes/): environments of a project with a number that is never reused.
SANDBOX_PREFIX = "sbx"


def sandbox_name(number: int) -> str:
    """The environment name of sandbox `number`: sbx-<number>."""
    return f"{SANDBOX_PREFIX}-{number}"


def sandbox_gcp_project_id(service_control_id: int, name: str, number: int) -> str:
    """The GCP project id of sandbox `number` of project sc-<id>-<name>: `sc-<id>-<name>-sbx<number>`,
    with the name shortened (and any hyphen left at its end dropped) to stay within 30 characters.

    `number` is unique over all projects and never reused, so the id is unique even when two
    names shorten alike. It ends in `-sbx<digits>`, which no fixed environment's id does (they end in
    -dev, -test or -prod), so it can collide with none. Valid for every registrable project: the
    shortest part kept of the name is its first letter."""
    suffix = f"-{SANDBOX_PREFIX}{number}"
    head = f"sc-{service_control_id}-"
    room = GCP_PROJECT_ID_MAX - len(head) - len(suffix)
    if room < 1:
        raise ValidationError(
            f"Sandbox number {number} does not fit a GCP project id for Service Control ID {service_control_id}.",
            code="sandbox_id_too_long",
        )
    short = name[:room].rstrip("-")
    project_id = f"{head}{short}{suffix}"
    if not _GCP_PROJECT_ID.fullmatch(project_id):
        raise ValidationError(f"{project_id!r} is not a valid GCP project id.", code="invalid_gcp_project_id")
    return project_id
