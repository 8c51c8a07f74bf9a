"""Server-Sent Events for the run page.

Each log line event carries the line's sequence number as its SSE id, so a
browser that reconnects sends Last-Event-ID and resumes exactly after the last
line it has: no gap, no duplicate. Status, plan, resources and outputs travel
as out-of-band HTML in `parts` events; `end` says the run is over."""

import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import Http404, StreamingHttpResponse
from django.template.loader import render_to_string

from deployments import live
from deployments.logs import log_lines_after
from deployments.selectors import run_for_user
from deployments.views import run_parts_context

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


def _snapshot(user, run_id: int, after: int):
    """Everything one step of the stream needs, read in one go."""
    run = run_for_user(user, run_id)
    finished = run.is_finished  # before the lines: lines stored before the end are all visible
    lines = log_lines_after(run=run, after=after, limit=BATCH)
    version = (run.status, run.to_add, repr(run.resources), repr(run.outputs), run.transitions.count())
    return run, finished, lines, version


async def run_events(request, pk: int):
    user = await request.auser()
    if not user.is_authenticated:
        raise Http404("No such run.")
    snapshot = sync_to_async(_snapshot)
    await snapshot(user, pk, 0)  # 404 now, before the stream starts, if the user may not see it
    after = _cursor(request)

    async def stream():
        nonlocal after
        seen_version = None
        quiet_since = time.monotonic()
        yield f"retry: 1000\n: run {pk} from line {after}\n\n"
        while True:
            run, finished, lines, version = await snapshot(user, pk, after)
            if lines:
                html = await sync_to_async(render_to_string)("deployments/partials/log_lines.html", {"lines": lines})
                after = lines[-1].seq
                quiet_since = time.monotonic()
                yield _sse("line", html, after)
            if version != seen_version:
                seen_version = version
                context = await sync_to_async(run_parts_context)(run, user)
                html = await sync_to_async(render_to_string)(
                    "deployments/partials/run_parts.html", context, request=request
                )
                yield _sse("parts", html)
            if len(lines) == BATCH:
                continue  # more waiting: send it before sleeping
            if finished:
                yield _sse("end", run.status)
                return
            await live.wait_for_change(pk, settings.LIVE_KEEPALIVE)
            if time.monotonic() - quiet_since >= settings.LIVE_KEEPALIVE:
                quiet_since = time.monotonic()
                yield ": keep-alive\n\n"  # keeps proxies from closing an idle stream

    response = StreamingHttpResponse(stream(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # tell nginx-like proxies not to buffer the stream
    return response
