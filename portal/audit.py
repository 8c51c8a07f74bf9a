"""One function records every auditable action, from views, API, tasks and commands."""

from contextvars import ContextVar
from typing import Any

from django.db import models

from portal.models import AuditEvent

# The signed-in user of the request being served, for records made where no view passes an actor
# (signals on saves). Set by portal.middleware.AuditActorMiddleware.
_request_user: ContextVar = ContextVar("hangar_request_user", default=None)


def current_actor():
    """The user of the current request, if any and signed in; else None (recorded as "system")."""
    user = _request_user.get()
    return user if getattr(user, "is_authenticated", False) else None


def audit_record(*, actor, action: str, obj: models.Model | None = None, **details: Any) -> AuditEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user else "system",
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        details=details,
    )
