"""Server-Sent Events for the run page.

Each log line event carries the line's sequence number as its SSE id, so a
browser that reconnects sends Last-Event-ID and resumes exactly after the last
line it has: no gap, no duplicate. Status, plan, resources and outputs travel
as out-of-band HTML in `parts` events; `end` says the run is over."""

import time
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.http import Http404, StreamingHttpResponse
from django.template.loader import render_to_string

from deployments.live import wakeups as live
from deployments.runs.logs import sees_tracebacks, visible_log_lines
from deployments.runs.models import Run, RunTransition
from deployments.runs.selectors import run_for_user
from deployments.runs.views import run_parts_shared, user_rights, with_actions
from deployments.state.models import StateVersion

BATCH = 500


def _sse(event: str, data: str, event_id: int | None = None) -> str:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return "\n".join(lines) + "\n\n"


def _cursor(request) -> int:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("after") or "0"
    try:
        return max(int(raw), 0)
    except ValueError:
        return 0


@dataclass(frozen=True)
class Step:
    """One read of a run: the same for every stream at the same cursor, so it is read and rendered once."""

    run: Run
    finished: bool
    count: int  # lines read
    last_seq: int
    html: str  # those lines, rendered
    version: tuple  # changes when the run page's other parts change


def _read(run_id: int, after: int, user) -> Step:
    # Counted before the run is read: a transition committed in between (planned, then parked a moment
    # later) changes the count on the next read, so the parts are rendered again from the newer run.
    transitions = RunTransition.objects.filter(run_id=run_id).count()
    run = Run.objects.select_related("deployment__environment__project", "artifact", "requested_by").get(pk=run_id)
    finished = run.is_finished  # before the lines: lines stored before the end are all visible
    lines = visible_log_lines(user=user, run=run, after=after, limit=BATCH)
    html = render_to_string("deployments/partials/log_lines.html", {"lines": lines}) if lines else ""
    # A plan waiting for a person goes stale when another state version is written: seen within a keep-alive.
    state_now = (
        StateVersion.objects.filter(deployment_id=run.deployment_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        if run.awaiting_confirmation
        else None
    )
    version = (
        run.status, run.plan_expires_at, run.to_add, repr(run.resources), repr(run.outputs), transitions, state_now
    )  # fmt: skip
    return Step(run, finished, len(lines), lines[-1].seq if lines else after, html, version)


def _render_parts(shared: dict, rights: tuple[bool, bool], request) -> str:
    return render_to_string("deployments/partials/run_parts.html", with_actions(shared, rights), request=request)


def _access(user, run_id: int) -> tuple[bool, bool]:
    """404 unless the user may see the run; whether they may deploy and confirm it. Frees this request's connection."""
    try:
        return user_rights(user, run_for_user(user, run_id))
    finally:
        connection.close()  # the stream reads on live's threads: it must not hold a connection per browser


async def run_events(request, pk: int):
    """Who may follow a run is checked when the stream opens and again every LIVE_KEEPALIVE seconds;
    a stream lasts no longer than its run, nor than the user's access to it."""
    user = await request.auser()
    if not user.is_authenticated:
        raise Http404("No such run.")
    request.user = user  # rendering the parts must not look the session up again
    rights = await sync_to_async(_access)(user, pk)  # 404 now, before the stream starts
    after = _cursor(request)

    async def stream():
        nonlocal after, rights
        live.follow(pk)
        try:
            seen_version = None
            quiet_since = checked_at = time.monotonic()
            yield f"retry: 1000\n: run {pk} from line {after}\n\n"
            while True:
                seen = live.generation(pk)  # before reading: a wake-up during the read is not lost
                # Shared by the streams at the same cursor that see the same lines (admins see tracebacks).
                key = ("lines", pk, after, seen, sees_tracebacks(user))
                step = await live.shared(key, _read, pk, after, user)
                if step.count:
                    after = step.last_seq
                    quiet_since = time.monotonic()
                    yield _sse("line", step.html, after)
                if step.version != seen_version:
                    seen_version = step.version
                    shared = await live.shared(("parts", pk, step.version), run_parts_shared, step.run)
                    yield _sse("parts", await live.db(_render_parts, shared, rights, request))
                if step.count == BATCH:
                    continue  # more waiting: send it before sleeping
                if step.finished:
                    yield _sse("end", step.run.status)
                    return
                await live.wait_for_change(pk, settings.LIVE_KEEPALIVE, seen)
                if time.monotonic() - checked_at >= settings.LIVE_KEEPALIVE:
                    # Access is re-checked as the stream goes on: someone removed from the team stops
                    # receiving the log within LIVE_KEEPALIVE seconds.
                    checked_at = time.monotonic()
                    try:
                        rights = await live.db(_access, user, pk)
                    except Http404:
                        yield _sse("end", "access-revoked")
                        return
                if time.monotonic() - quiet_since >= settings.LIVE_KEEPALIVE:
                    quiet_since = time.monotonic()
                    yield ": keep-alive\n\n"  # keeps proxies from closing an idle stream
        finally:
            live.unfollow(pk)

    response = StreamingHttpResponse(stream(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # tell nginx-like proxies not to buffer the stream
    return response
