"""A run's log: every line stored in order, with a sequence number readers
use as a cursor (`after=<seq>`)."""

import json
import threading
from collections import deque
from collections.abc import Iterator

from django.db.models import Max
from django.utils import timezone

from deployments.live import wakeups
from deployments.runs.db_retry import retrying
from deployments.runs.models import LogLine, Run
from deployments.runs.terraform_json import ParsedLine


class RunLog:
    """Appends lines to one run's log; keeps the last plain lines for error summaries."""

    def __init__(self, run: Run):
        self.run = run
        last = retrying(lambda: LogLine.objects.filter(run=run).aggregate(last=Max("seq"))["last"])
        self.next_seq = (last or 0) + 1
        self.recent_plain: deque[str] = deque(maxlen=15)
        self._lock = threading.Lock()  # the executor and its watchdog both append

    def store(self, line: ParsedLine) -> LogLine:
        return self.store_many([line])[0]

    def store_many(self, lines: list[ParsedLine]) -> list[LogLine]:
        """Store lines that arrived together in one insert, then wake their readers once."""
        with self._lock:
            entries = self._store(lines)
        wakeups.notify(self.run.pk)
        return entries

    def _store(self, lines: list[ParsedLine]) -> list[LogLine]:
        entries, seq = [], self.next_seq
        for line in lines:
            if line.raw is None and line.message.strip():
                self.recent_plain.append(line.message)
            entries.append(
                LogLine(
                    run=self.run,
                    seq=seq,
                    at=line.at,
                    level=line.level,
                    type=line.type,
                    message=line.message,
                    raw=line.raw,
                )
            )
            seq += 1
        # Retried on a lost connection; lines an interrupted attempt did store are skipped, not doubled.
        retrying(LogLine.objects.bulk_create, entries, ignore_conflicts=True)
        self.next_seq = seq  # only once stored: a failed insert leaves no gap in the sequence
        return entries

    def append(self, message: str, *, level: str = "info", type: str = "hangar") -> LogLine:
        """A line of Hangar's own (what it is doing, why it stopped)."""
        return self.store(ParsedLine(at=timezone.now(), level=level, type=type, message=message, raw=None))


def log_lines_after(*, run: Run, after: int = 0, limit: int = 1000) -> list[LogLine]:
    """Every stored line after `after`, as stored: for Hangar's own use. People read `visible_log_lines`."""
    return list(LogLine.objects.filter(run=run, seq__gt=after).order_by("seq")[:limit])


# Who sees which lines ------------------------------------------------------------------------------

TRACEBACK = "traceback"  # the type of a line holding a traceback of Hangar's own: admins only
HIDDEN_TRACEBACK = "Hangar failed here because of an internal error; an admin can read the details in this log."


def sees_tracebacks(user) -> bool:
    return bool(getattr(user, "is_superuser", False))


def _for_reader(line: LogLine, admin: bool) -> LogLine:
    if admin or line.type != TRACEBACK:
        return line
    # Same line, same seq (cursors keep working), without the internals.
    return LogLine(id=line.id, run_id=line.run_id, seq=line.seq, at=line.at, level=line.level, type="hangar",
                   message=HIDDEN_TRACEBACK, raw=None)  # fmt: skip


def visible_log_lines(*, user, run: Run, after: int = 0, limit: int = 1000) -> list[LogLine]:
    """The lines after `after` as `user` may read them: tracebacks only for admins, a short reason
    in their place (same sequence number) for everyone else. Every page, stream, API and download
    that shows log lines to a person reads them here."""
    admin = sees_tracebacks(user)
    return [_for_reader(line, admin) for line in log_lines_after(run=run, after=after, limit=limit)]


def visible_log_text(*, user, run: Run) -> Iterator[str]:
    """The whole log as Terraform printed it (JSON lines, and the text lines), as `user` may read it."""
    admin = sees_tracebacks(user)
    lines = LogLine.objects.filter(run=run).order_by("seq").values_list("raw", "message", "type")
    for raw, message, kind in lines.iterator(chunk_size=2000):
        if kind == TRACEBACK and not admin:
            yield HIDDEN_TRACEBACK + "\n"
        else:
            yield (json.dumps(raw, separators=(",", ":")) if raw is not None else message) + "\n"
