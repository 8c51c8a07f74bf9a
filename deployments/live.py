"""Waking live log streams when a run changes.

The stored log lines are the source of truth; this only says "look again".
With Redis (LIVE_REDIS_URL, by default the Celery broker when it is Redis)
writers publish the run id and each web process keeps one subscription that
wakes the streams waiting on that run. Without Redis, streams look again
every LIVE_POLL_INTERVAL seconds."""

import asyncio
import logging
import threading

from django.conf import settings

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
        self.task: asyncio.Task | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

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
        for event in self.waiters.get(run_id, ()):
            event.set()

    def _wake_all(self) -> None:
        for events in self.waiters.values():
            for event in events:
                event.set()

    async def wait(self, run_id: int, timeout: float) -> None:
        self._ensure_listening()
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


async def wait_for_change(run_id: int, timeout: float) -> None:
    """Return when run `run_id` may have changed, or after `timeout` seconds."""
    if _redis_url():
        # Poll now and then anyway: a lost message must not stall a stream forever.
        await _hub.wait(run_id, min(timeout, settings.LIVE_SAFETY_POLL))
    else:
        await asyncio.sleep(min(timeout, settings.LIVE_POLL_INTERVAL))
