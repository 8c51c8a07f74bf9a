"""Waking live log streams when a run changes.

The stored log lines are the source of truth; this only says "look again".
With Redis (LIVE_REDIS_URL, by default the Celery broker when it is Redis)
writers publish the run id and each web process keeps one subscription that
wakes the streams waiting on that run. Without Redis, streams look again
every LIVE_POLL_INTERVAL seconds, all on the same clock ticks.

However many browsers follow one run, a web process reads it once per
wake-up: streams that want the same thing at the same moment share one
read (`shared`), done on a small pool of threads of its own (`db`), so an
open stream holds no database connection while it waits."""

import asyncio
import functools
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)
CHANNEL = "hangar:runs"

_publisher = None
_publisher_lock = threading.Lock()


def _redis_url() -> str:
    return settings.LIVE_REDIS_URL


def notify(run_id: int) -> None:
    """Tell every web process that run `run_id` has new lines or a new status."""
    url = _redis_url()
    if not url:
        return
    global _publisher
    try:
        if _publisher is None:
            with _publisher_lock:
                if _publisher is None:
                    import redis

                    _publisher = redis.Redis.from_url(url, socket_timeout=2)
        _publisher.publish(CHANNEL, str(run_id))
    except Exception:  # a missed wake-up only costs a poll interval
        log.warning("could not publish a live-log wake-up for run %s", run_id, exc_info=True)


class Hub:
    """One Redis subscription per process, fanning out to every waiting stream."""

    def __init__(self) -> None:
        self.waiters: dict[int, set[asyncio.Event]] = {}
        # Wake-ups seen per followed run: a stream that notes it before reading, and finds it changed
        # when it is about to wait, reads again at once instead of missing the line that arrived meanwhile.
        self.generations: dict[int, int] = {}
        self.followers: dict[int, int] = {}
        self.task: asyncio.Task | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def follow(self, run_id: int) -> None:
        self.followers[run_id] = self.followers.get(run_id, 0) + 1
        self.generations.setdefault(run_id, 0)

    def unfollow(self, run_id: int) -> None:
        left = self.followers.get(run_id, 1) - 1
        if left > 0:
            self.followers[run_id] = left
        else:
            self.followers.pop(run_id, None)
            self.generations.pop(run_id, None)

    def generation(self, run_id: int) -> int:
        self._ensure_listening()
        return self.generations.get(run_id, 0)

    def _ensure_listening(self) -> None:
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.loop is not loop:
            self.loop = loop
            self.task = loop.create_task(self._listen())

    async def _listen(self) -> None:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(_redis_url())
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._wake(int(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("live-log subscription lost; reconnecting", exc_info=True)
                self._wake_all()  # nobody may miss a line while we were away
                await asyncio.sleep(1)
            finally:
                await client.aclose()

    def _wake(self, run_id: int) -> None:
        if run_id in self.generations:
            self.generations[run_id] += 1
        for event in self.waiters.get(run_id, ()):
            event.set()

    def _wake_all(self) -> None:
        for run_id in self.generations:
            self.generations[run_id] += 1
        for events in self.waiters.values():
            for event in events:
                event.set()

    async def wait(self, run_id: int, timeout: float, seen: int | None = None) -> None:
        self._ensure_listening()
        if seen is not None and self.generations.get(run_id, 0) != seen:
            return  # woken while the caller was reading: read again now
        event = asyncio.Event()
        self.waiters.setdefault(run_id, set()).add(event)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            waiting = self.waiters.get(run_id)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self.waiters[run_id]


_hub = Hub()


async def wait_for_change(run_id: int, timeout: float, seen: int | None = None) -> None:
    """Return when run `run_id` may have changed, or after `timeout` seconds.

    `seen` is `generation(run_id)` taken before the caller last read the run: a wake-up since then
    returns at once."""
    if _redis_url():
        # Poll now and then anyway: a lost message must not stall a stream forever.
        await _hub.wait(run_id, min(timeout, settings.LIVE_SAFETY_POLL), seen)
    else:
        # On the clock's ticks, so every stream of a process looks at the same moment and shares the read.
        interval = settings.LIVE_POLL_INTERVAL
        now = asyncio.get_running_loop().time()
        await asyncio.sleep(min(timeout, interval - now % interval))


def follow(run_id: int) -> None:
    """A stream starts following run `run_id` (pair with `unfollow`)."""
    _hub.follow(run_id)


def unfollow(run_id: int) -> None:
    _hub.unfollow(run_id)


def generation(run_id: int) -> int:
    """A number that changes whenever run `run_id` may have changed (wake-ups, or poll ticks)."""
    if _redis_url():
        return _hub.generation(run_id)
    return int(asyncio.get_running_loop().time() // settings.LIVE_POLL_INTERVAL)


_inflight: dict[tuple, asyncio.Task] = {}


async def shared(key: tuple, func, *args):
    """`await db(func, *args)`, once for all callers asking with an equal `key` while it runs."""
    task = _inflight.get(key)
    if task is None:
        task = asyncio.ensure_future(db(func, *args))
        _inflight[key] = task

        def forget(done: asyncio.Task) -> None:
            if _inflight.get(key) is done:
                del _inflight[key]

        task.add_done_callback(forget)
    return await asyncio.shield(task)  # one caller going away does not cancel the others' read


# Database work of the live streams runs here, not in each request's own thread: a few
# connections for the whole process instead of one held open by every browser.
_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hangar-live")


def _guarded(func, *args):
    try:
        return func(*args)
    except Exception:
        connection.close()  # a broken connection must not fail the next read too
        raise


async def db(func, *args):
    """Run a synchronous, database-reading `func(*args)` on the live streams' threads."""
    return await asyncio.get_running_loop().run_in_executor(_executor, functools.partial(_guarded, func, *args))
