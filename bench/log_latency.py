"""Benchmark: live log latency, from a line being stored to a connected browser receiving it.

    .venv/bin/python bench/log_latency.py [--mode both|redis|polling] [--lines 300] [--rate 20] [--burst 300]

The real path: a writer process stores lines through RunLog.store (as the executor does for each
line of Terraform's stdout), each carrying its send time; uvicorn serves /runs/<id>/events/; an
SSE client computes receive − send for every line. Two phases: a steady run (`--lines` at
`--rate` lines/s) and a burst (`--burst` lines as fast as the writer can store them).
Modes: `redis` (PostgreSQL + Redis wake-ups, the production set-up) and `polling` (the embedded
set-up: SQLite, no Redis, streams look again every LIVE_POLL_INTERVAL). Target: p95 <= 250 ms.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _harness as h

TARGET_MS = 250


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("both", "redis", "polling"), default="both")
    parser.add_argument("--lines", type=int, default=300, help="lines in the steady phase")
    parser.add_argument("--rate", type=float, default=20, help="lines per second in the steady phase")
    parser.add_argument("--burst", type=int, default=300, help="lines in the burst phase (0 = none)")
    parser.add_argument("--redis-db", type=int, default=13)
    parser.add_argument("--result", help=argparse.SUPPRESS)  # internal: a mode's figures as JSON
    args = parser.parse_args()
    try:
        if args.mode == "both":
            results = {}
            for mode in ("redis", "polling"):
                with tempfile.NamedTemporaryFile(suffix=".json") as out:
                    command = [sys.executable, __file__, "--mode", mode, "--lines", str(args.lines),
                               "--rate", str(args.rate), "--burst", str(args.burst),
                               "--redis-db", str(args.redis_db), "--result", out.name]  # fmt: skip
                    print(f"measuring {mode} …", flush=True)
                    subprocess.run(command, check=True)
                    results[mode] = json.loads(Path(out.name).read_text())
            report(results, args)
        else:
            result = measure(args.mode, args)
            if args.result:
                Path(args.result).write_text(json.dumps(result))
            else:
                report({args.mode: result}, args)
    except KeyboardInterrupt:
        sys.exit("interrupted; processes stopped and temporary files removed")


def measure(mode: str, args) -> dict:
    site = h.Site(f"log_{mode}", embedded=mode == "polling", redis_db=args.redis_db)
    site.activate()
    from django.conf import settings

    run, user = h.make_running_run()
    cookie = h.session_cookie(user)
    web = site.web()
    phases = {"steady": (args.lines, args.rate), "burst": (args.burst, 0)}
    result = {"poll_interval": settings.LIVE_POLL_INTERVAL, "redis": bool(settings.LIVE_REDIS_URL)}
    for phase, (lines, rate) in phases.items():
        if lines:
            result[phase] = phase_latencies(site, web, run.pk, cookie, lines, rate)
    return result


def phase_latencies(site, web, run_id: int, cookie: str, lines: int, rate: float) -> dict:
    from deployments.runs.models import LogLine

    after = LogLine.objects.filter(run_id=run_id).order_by("-seq").values_list("seq", flat=True).first() or 0
    stream = h.SSE(web.url, f"/runs/{run_id}/events/?after={after}", cookie)
    latencies: list[float] = []
    done = threading.Event()

    def read() -> None:
        try:
            for event, _id, data, received in stream.events():
                if event == "line":
                    latencies.extend(received - float(sent) for sent in h.SENT.findall(data))
                    if len(latencies) >= lines:
                        break
        except OSError:
            pass
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    writer = h.writer(site, run_id, lines=lines, rate=rate, start_at=time.time() + 2)
    writer.wait()
    done.wait(timeout=30)
    stream.close()
    if len(latencies) < lines:
        sys.exit(f"only {len(latencies)} of {lines} lines arrived; see {site.dir}/web.log and writer.log")
    write_time = (site.dir / "writer.log").read_text().strip().splitlines()[-1]
    return {"latencies_ms": [value * 1000 for value in latencies], "writer": write_time}


def report(results: dict, args) -> None:
    print()
    print(f"live log latency (store → SSE client), {h.machine_note()}")
    print(f"{'mode':34}{'phase':16}{'lines':>7}{'p50':>9}{'p95':>9}{'max':>9}  target p95 <= {TARGET_MS} ms")
    met = True
    for mode, result in results.items():
        label = "Redis wake-ups" if result["redis"] else f"DB polling every {result['poll_interval']}s"
        label += " (PostgreSQL)" if mode == "redis" else " (SQLite)"
        for phase, name in (("steady", f"steady {args.rate:g}/s"), ("burst", "burst")):
            if phase not in result:
                continue
            values = result[phase]["latencies_ms"]
            p95 = h.percentile(values, 0.95)
            met &= p95 <= TARGET_MS
            print(
                f"{label:34}{name:16}{len(values):>7}{h.percentile(values, 0.5):>7.0f}ms{p95:>7.0f}ms"
                f"{max(values):>7.0f}ms  {h.verdict(p95 <= TARGET_MS)}"
            )
            print(f"{'':34}  ({result[phase]['writer']})")
    print(f"overall: {h.verdict(met)}")


if __name__ == "__main__":
    main()
