"""One read per run and wake-up, however many streams follow it; no wake-up lost while reading."""

import asyncio
import threading

from deployments.live import wakeups as live


def test_streams_asking_for_the_same_read_at_once_share_it():
    calls = []
    gate = threading.Event()

    def read(run_id, after):
        calls.append((run_id, after))
        gate.wait(5)
        return f"lines of {run_id} after {after}"

    async def main():
        same = [asyncio.create_task(live.shared(("lines", 1, 10, 0), read, 1, 10)) for _ in range(50)]
        other = asyncio.create_task(live.shared(("lines", 1, 3, 0), read, 1, 3))  # a stream catching up
        await asyncio.sleep(0.1)
        gate.set()
        return await asyncio.gather(*same), await other

    shared, caught_up = asyncio.run(main())
    assert shared == ["lines of 1 after 10"] * 50 and caught_up == "lines of 1 after 3"
    assert sorted(calls) == [(1, 3), (1, 10)]
    assert not live._inflight


def test_a_wake_up_during_a_read_makes_the_next_wait_return_at_once():
    hub = live.Hub()
    hub._ensure_listening = lambda: None  # no Redis here: wake-ups are delivered by hand

    async def main():
        hub.follow(7)
        seen = hub.generation(7)
        hub._wake(7)  # a line stored while the stream was reading
        loop = asyncio.get_running_loop()
        start = loop.time()
        await hub.wait(7, 5, seen)
        waited_after_wake = loop.time() - start
        start = loop.time()
        await hub.wait(7, 0.2, hub.generation(7))  # nothing new: waits for the timeout
        waited_idle = loop.time() - start
        hub.unfollow(7)
        return waited_after_wake, waited_idle

    waited_after_wake, waited_idle = asyncio.run(main())
    assert waited_after_wake < 0.05 and waited_idle >= 0.15
    assert hub.generations == {} and hub.followers == {}
