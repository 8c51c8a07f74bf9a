"""Graceful worker shutdown: a worker told to stop takes no new runs and lets the runs in flight finish.

Celery's warm shutdown (SIGTERM to the worker) already stops consuming and waits for the tasks in
flight, but with no bound. A run executes in a prefork child, which gets the signal in one of two ways:

- directly, when the whole process group is signalled (systemd's default KillMode, `kill -TERM -<pgid>`):
  `execute_run` replaces billiard's SIGTERM handler (which would exit the child mid-apply) with ours;
- from the main process, which on `worker_shutting_down` sends SIGUSR2 to its pool children (a signal
  billiard leaves alone, so the handler installed at `worker_process_init` stays). The flag is also
  set in the main process itself, so a child forked during the shutdown is draining from the start.

Draining, a child refuses new runs (the task is rejected and requeued: another worker takes it), and
each run's watchdog (`executor.Watchdog`) says in the run's log that the worker is shutting down. A run
still going after RUN_DRAIN_TIMEOUT seconds is cancelled gracefully, as a cancel does: SIGINT to
Terraform, which finishes the call in flight, saves the state and releases the lock; SIGKILL after
RUN_CANCEL_GRACE. A second shutdown request (a second SIGTERM) cancels at once, still gracefully.
The task then returns normally, so its message is acknowledged and not delivered again (and a
redelivered message would do nothing: only a queued run is claimed)."""

import contextlib
import logging
import os
import signal
import threading
import time

from celery import signals
from django.conf import settings

log = logging.getLogger(__name__)
FORWARDED_SIGNAL = signal.SIGUSR2
# Signals of one shutdown request (the group's SIGTERM and the forwarded one) arrive within this window.
SAME_REQUEST_SECONDS = 1.0

_state = {"since": None, "deadline": None, "last": None}
_worker = {"controller": None}


def draining() -> bool:
    return _state["since"] is not None


def drain_deadline() -> float | None:
    """time.monotonic() by which runs in flight must be finished, or None when not shutting down."""
    return _state["deadline"]


def begin_drain() -> None:
    """Start draining (from a signal handler: quick, no I/O); a later, separate request cancels at once."""
    now = time.monotonic()  # no lock: a handler may interrupt another one in the same thread
    if _state["since"] is None:
        _state["deadline"] = now + settings.RUN_DRAIN_TIMEOUT
        _state["since"] = now
    elif now - (_state["last"] or now) >= SAME_REQUEST_SECONDS:
        _state["deadline"] = now
    _state["last"] = now


def _on_signal(signum, frame) -> None:
    begin_drain()


def install_child_handlers() -> None:
    """In a pool child's main thread, before a run: SIGTERM and SIGUSR2 start draining instead of exiting."""
    if threading.current_thread() is not threading.main_thread():
        return  # eager mode or a thread pool: signals are not ours to take
    for signum in (signal.SIGTERM, FORWARDED_SIGNAL):
        if signal.getsignal(signum) is not _on_signal:
            signal.signal(signum, _on_signal)


@signals.worker_process_init.connect
def _child_started(**kwargs) -> None:
    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(FORWARDED_SIGNAL, _on_signal)


@signals.worker_init.connect
def _worker_started(sender=None, **kwargs) -> None:
    _worker["controller"] = sender


def _pool_pids() -> list[int]:
    controller = _worker["controller"]
    try:
        return [process.pid for process in controller.pool._pool._pool if process.pid]
    except AttributeError:  # solo or thread pool, or not started yet
        return []


@signals.worker_shutting_down.connect
def _worker_shutting_down(sig=None, how=None, **kwargs) -> None:
    """In the worker's main process: pass the request on to the pool children that run the runs."""
    if how != "Warm":
        return
    begin_drain()  # children forked from now on inherit it
    for pid in _pool_pids():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, FORWARDED_SIGNAL)
