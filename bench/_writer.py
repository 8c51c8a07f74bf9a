"""A log writer for the live-log benchmarks, in its own process like a Celery worker.

    python bench/_writer.py --run ID --lines 300 --rate 20 [--start-at UNIX_TIME]

Stores lines through RunLog.store — the path the executor takes for each line of Terraform's
stdout (a database insert, then the Redis wake-up) — each line carrying the wall-clock time
it was handed over (`sent=<unix time>`), so a reader can compute its latency. `--rate 0`
writes as fast as it can (a burst). Reads the site from the environment (DATABASE_URL, ...).
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=int, required=True)
    parser.add_argument("--lines", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20, help="lines per second; 0 = as fast as possible")
    parser.add_argument("--start-at", type=float, default=0, help="wall-clock time to begin at")
    parser.add_argument("--width", type=int, default=120, help="characters per line, like Terraform's")
    args = parser.parse_args()

    import django

    django.setup()
    from deployments.runs.logs import RunLog
    from deployments.runs.models import Run
    from deployments.runs.terraform_json import parse_line

    log = RunLog(Run.objects.get(pk=args.run))
    log.append("warm-up")  # opens the connections (database, Redis) before timing starts
    padding = "x" * max(0, args.width - 60)
    while time.time() < args.start_at:
        time.sleep(min(0.05, args.start_at - time.time()))
    begin = time.monotonic()
    for index in range(args.lines):
        if args.rate:
            delay = begin + index / args.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        log.store(parse_line(f"bench line {index} {padding} sent={time.time():.6f}", default_type="apply"))
    print(f"wrote {args.lines} lines in {time.monotonic() - begin:.2f}s", flush=True)


if __name__ == "__main__":
    main()
