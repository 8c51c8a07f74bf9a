"""Services raise Django's ValidationError and PermissionDenied; these turn them into what a page or the API shows."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import PermissionDenied

from onboarding.api.views import as_drf_error


def call_service(service, **kwargs):
    """Run a service, turning its errors into the API's one error shape."""
    try:
        return service(**kwargs)
    except DjangoValidationError as error:
        raise as_drf_error(error) from None
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error)) from None


def call_service_conflicts(service, **kwargs):
    """Like call_service, but a refusal because of the object's state (a ValidationError) is raised as it is,
    for the caller to answer 409 Conflict."""
    try:
        return service(**kwargs)
    except DjangoPermissionDenied as error:
        raise PermissionDenied(str(error)) from None


def error_text(error: Exception) -> str:
    """The message a page shows for a refused action."""
    if isinstance(error, DjangoValidationError):
        return " ".join(error.messages)
    return str(error)
