"""The executor's database writes survive a short database outage (a PostgreSQL restart, a failover).

A write that fails with OperationalError or InterfaceError is tried again on a fresh connection,
with a backoff, for up to RUN_DB_RETRY_SECONDS; only then does the error reach the run. Every write
retried this way is idempotent (an update, a status move guarded by the run's state, a log insert
that skips lines already stored). Inside a transaction nothing is retried: the transaction's
caller retries it as a whole."""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRYABLE = (OperationalError, InterfaceError)


def retrying(fn: Callable[..., T], *args, **kwargs) -> T:
    deadline = time.monotonic() + settings.RUN_DB_RETRY_SECONDS
    delay, attempt = 0.25, 1
    while True:
        try:
            return fn(*args, **kwargs)
        except RETRYABLE as error:
            if connection.in_atomic_block or time.monotonic() + delay > deadline:
                raise
            log.warning(
                "database unavailable (%s) in %s; attempt %d, trying again in %.1f s",
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
                getattr(fn, "__qualname__", fn),
                attempt,
                delay,
            )
            try:
                connection.close()
            except Exception:  # the connection is broken anyway; a new one is made on the next query
                connection.connection = None
            time.sleep(delay)
            delay, attempt = min(delay * 2, 5.0), attempt + 1
