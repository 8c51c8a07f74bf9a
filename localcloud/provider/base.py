"""What every local cloud resource shares: the API client, error reporting, null handling."""

import functools
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from tf.iface import Resource, UpgradeContext
from tf.types import Unknown
from tf.utils import Diagnostics

from localcloud.client import Client
from localcloud.errors import LocalCloudError, PermissionDenied, Unauthenticated, Unavailable

if TYPE_CHECKING:
    from localcloud.provider.plugin import LocalCloudProvider

T = TypeVar("T")
# Milliseconds every create, update and delete waits, like a real cloud API does:
# lets demos and tests watch a run, cancel it or lose its worker mid-apply.
LATENCY_ENV = "LOCALCLOUD_LATENCY_MS"


def _with_latency(operation: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(operation)
    def slowed(*args: Any, **kwargs: Any) -> T:
        latency = int(os.environ.get(LATENCY_ENV) or 0)
        if latency > 0:
            time.sleep(latency / 1000)
        return operation(*args, **kwargs)

    return slowed


def is_known(value: Any) -> bool:
    """False when the value, or anything inside it, is not known until apply."""
    if value is Unknown:
        return False
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    return True


def as_configured(actual: Any, configured: Any) -> Any:
    """Keep null where the configuration left an optional attribute unset and reality is empty,
    so Terraform sees no difference between "unset" and "empty"."""
    if configured is None and actual in (None, "", {}, [], False):
        return None
    return actual


_SUMMARIES = {
    PermissionDenied: "Permission denied by the local cloud",
    Unauthenticated: "Not authenticated to the local cloud",
    Unavailable: "Local cloud unavailable",
}


def report(diags: Diagnostics, error: LocalCloudError, attributes: set[str]) -> None:
    field = error.field or ""
    top = field.split(".")[0].split("[")[0].split(" ")[0]
    path = [top] if top in attributes else None
    summary = f"Invalid {field}" if field else _SUMMARIES.get(type(error), "Local cloud error")
    diags.add_error(summary, error.message, path=path)


class LocalCloudResource(Resource):
    """Subclasses implement check() (static validation, no call needed) and the CRUD operations,
    each one call of the local cloud's API through ``self.client``."""

    def __init__(self, provider: "LocalCloudProvider") -> None:
        self.provider = provider

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("create", "update", "delete"):
            if name in cls.__dict__:
                setattr(cls, name, _with_latency(cls.__dict__[name]))

    @property
    def client(self) -> Client:
        return self.provider.client

    @classmethod
    def attribute_names(cls) -> set[str]:
        return {a.name for a in cls.get_schema().attributes}

    def check(self, config: dict) -> None:
        """Raise InvalidValue for a bad configuration; values not yet known are skipped."""

    def validate(self, diags: Diagnostics, type_name: str, config: dict) -> None:
        super().validate(diags, type_name, config)
        if diags.has_errors():
            return
        self.guard(diags, lambda: self.check(config))

    def guard(self, diags: Diagnostics, action: Callable[[], T], fallback: Any = None) -> T | Any:
        try:
            return action()
        except LocalCloudError as error:
            report(diags, error, self.attribute_names())
            return fallback

    def upgrade(self, ctx: UpgradeContext, version: int, old: dict) -> dict:
        """Schema version 0 is the only one so far, but attributes are added to it: a state written
        before one existed gets it as null (Terraform refuses a state that lacks an attribute of the
        schema), and one that no longer exists is dropped."""
        names = self.attribute_names()
        return {name: old.get(name) for name in names}
