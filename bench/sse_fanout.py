"""Benchmark: many browsers following one run's live log on one uvicorn process.

    .venv/bin/python bench/sse_fanout.py [--clients 200] [--lines 300] [--rate 20] [--embedded]

`--clients` SSE clients (asyncio, raw sockets, in this process) connect to /runs/<id>/events/ of
one uvicorn process; a writer process then stores `--lines` lines at `--rate` lines/s through
RunLog.store, each carrying its send time. Clients connect `--connect-at-once` at a time (each
connect briefly needs a database connection; all at once is a connection storm of its own). Prints per-line latency (send → receipt) over all
clients, the worst client's lag, and the web process's CPU (from /proc/<pid>/stat over the
writing) and peak RSS (VmHWM). Target: no client ever more than one second behind.
Default: PostgreSQL + Redis wake-ups; `--embedded`: SQLite and DB polling.
"""

import argparse
import asyncio
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _harness as h

TARGET_LAG = 1.0


class Client:
    """One SSE connection: reads the chunked stream and notes when each line arrives."""

    def __init__(self, index: int):
        self.index = index
        self.latencies: list[float] = []
        self.ready = asyncio.Event()
        self.error: str | None = None

    async def follow(self, port: int, path: str, cookie: str, expected: int, gate: asyncio.Semaphore) -> None:
        async with gate:  # at most so many connecting at once; released when the stream is live
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError as error:
                self.error = f"connect: {error}"
                self.ready.set()
                return
            waiting = asyncio.create_task(self.ready.wait())
            streaming = asyncio.create_task(self._read(reader, writer, path, cookie, expected))
            await asyncio.wait([waiting, streaming], return_when=asyncio.FIRST_COMPLETED)
        await streaming

    async def _read(self, reader, writer, path: str, cookie: str, expected: int) -> None:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sessionid={cookie}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        try:
            status = await reader.readline()
            if b" 200 " not in status:
                raise ConnectionError(status.decode().strip())
            while (await reader.readline()) not in (b"\r\n", b""):
                pass  # headers
            while len(self.latencies) < expected:
                size = int((await reader.readline()).strip() or b"0", 16)
                if size == 0:
                    break
                chunk = (await reader.readexactly(size + 2)).decode()
                received = time.time()
                self.ready.set()  # the first event (parts) has come: the stream is live
                if chunk.startswith("id:") or "event: line" in chunk:
                    self.latencies.extend(received - float(sent) for sent in h.SENT.findall(chunk))
        except (OSError, ValueError, asyncio.IncompleteReadError, ConnectionError) as error:
            self.error = f"{type(error).__name__}: {error}"
        finally:
            self.ready.set()
            writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20, help="lines per second (0 = as fast as possible)")
    parser.add_argument(
        "--connect-at-once", type=int, default=20, help="clients connecting at the same time (0 = all at once)"
    )
    parser.add_argument("--embedded", action="store_true", help="SQLite, no Redis: streams poll the database")
    parser.add_argument("--redis-db", type=int, default=14)
    args = parser.parse_args()
    try:
        measure(args)
    except KeyboardInterrupt:
        sys.exit("interrupted; processes stopped and temporary files removed")


def measure(args) -> None:
    site = h.Site("fanout", embedded=args.embedded, redis_db=args.redis_db)
    site.activate()
    run, user = h.make_running_run()
    cookie = h.session_cookie(user)
    web = site.web()
    print(f"{args.clients} clients, {args.lines} lines at {args.rate:g}/s; {h.machine_note()}", flush=True)
    clients = [Client(i) for i in range(args.clients)]
    samples = {"rss": 0}
    asyncio.run(drive(site, web, run.pk, cookie, clients, args, samples))
    report(clients, args, samples)


async def drive(site, web, run_id: int, cookie: str, clients: list[Client], args, samples: dict) -> None:
    path = f"/runs/{run_id}/events/?after=0"  # the run has no lines yet
    started = time.monotonic()
    gate = asyncio.Semaphore(args.connect_at_once or len(clients))
    tasks = [asyncio.create_task(c.follow(web.port, path, cookie, args.lines, gate)) for c in clients]
    await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in clients)), timeout=120)
    samples["connect"] = time.monotonic() - started
    failed = [c for c in clients if c.error]
    if failed:
        sys.exit(f"{len(failed)} clients failed to connect, e.g. {failed[0].error}")

    cpu_before, _ = h.read_proc_stat(web.pid)
    wall_before = time.monotonic()
    writer = h.writer(site, run_id, lines=args.lines, rate=args.rate, start_at=time.time() + 2)
    stop = threading.Event()

    def sample_rss() -> None:
        while not stop.wait(0.2):
            samples["rss"] = max(samples["rss"], h.read_proc_stat(web.pid)[1])

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    await asyncio.to_thread(writer.wait)
    writing_done = time.monotonic()
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
    except TimeoutError:
        for task in tasks:
            task.cancel()
    stop.set()
    cpu_after, _ = h.read_proc_stat(web.pid)
    samples["cpu"] = cpu_after - cpu_before
    samples["wall"] = time.monotonic() - wall_before
    samples["drain"] = time.monotonic() - writing_done
    samples["hwm"] = vm_hwm(web.pid)


def vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def report(clients: list[Client], args, samples: dict) -> None:
    every = [value * 1000 for c in clients for value in c.latencies]
    worst = max(clients, key=lambda c: max(c.latencies, default=float("inf")))
    complete = sum(len(c.latencies) >= args.lines for c in clients)
    lag = max(worst.latencies, default=float("inf"))
    print()
    print(f"{'clients connected (all live after)':44}{samples['connect']:>10.2f}s")
    print(f"{'clients that received every line':44}{complete:>10} of {len(clients)}")
    print(f"{'line latency p50, all clients':44}{h.percentile(every, 0.5):>10.0f}ms")
    print(f"{'line latency p95, all clients':44}{h.percentile(every, 0.95):>10.0f}ms")
    print(f"{'line latency max, all clients':44}{max(every, default=float('nan')):>10.0f}ms")
    print(f"{'worst client lag (its slowest line)':44}{lag * 1000:>10.0f}ms  (client #{worst.index})")
    print(f"{'last client done after the writer':44}{samples['drain']:>10.2f}s")
    cpu_share = samples["cpu"] / samples["wall"] * 100
    print(f"{'web process CPU while writing':44}{samples['cpu']:>10.2f}s  ({cpu_share:.0f}% of one core)")
    print(f"{'web process peak RSS':44}{max(samples['hwm'], samples['rss']) / 2**20:>10.0f}MiB")
    ok = complete == len(clients) and lag <= TARGET_LAG
    print(f"target: no client more than {TARGET_LAG:g}s behind: {h.verdict(ok)}")


if __name__ == "__main__":
    main()
