"""Following a run in a terminal: its log as Terraform writes it, a progress line while Terraform
is quiet, and the exit code of its outcome (0 succeeded, 1 failed/cancelled/discarded, 3 waits for a person)."""

from __future__ import annotations

import json
import os
import sys
from time import monotonic, sleep

from hangar_cli.client import Client

EXIT_OK, EXIT_FAILED, EXIT_WAITING = 0, 1, 3
FINISHED = {"succeeded", "failed", "cancelled", "discarded"}
POLL_SECONDS = 0.5
STATUS_SECONDS = 2.0  # how often the run itself is read (is it waiting for a person?)
# Off a terminal, a progress line after this long without a log line, and again as long as it stays quiet.
QUIET_SECONDS = float(os.environ.get("HANGAR_PROGRESS_SECONDS") or 10)


def _elapsed(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    """On a terminal one line rewritten in place; elsewhere (CI logs) a line now and then."""

    def __init__(self, out):
        self.out = out
        self.tty = out.isatty()
        self.shown = False
        self.last = 0.0

    def clear(self) -> None:
        if self.tty and self.shown:
            self.out.write("\r\033[K")
            self.shown = False

    def show(self, text: str, quiet_for: float) -> None:
        now = monotonic()
        if self.tty:
            if quiet_for >= 2.0:
                self.out.write(f"\r\033[K… {text}")
                self.out.flush()
                self.shown = True
        elif quiet_for >= QUIET_SECONDS and now - self.last >= QUIET_SECONDS:
            print(f"… {text}", file=self.out, flush=True)
            self.last = now


def _summary(run: dict) -> str:
    plan = run.get("plan") or {}
    counts = f" (+{plan['add']} ~{plan['change']} -{plan['destroy']})" if plan else ""
    return f"run #{run['id']} {run['operation']} of {run['version']} on {run['environment']}: {run['status']}{counts}"


def waiting_message(run: dict) -> str:
    if run.get("awaiting_approval"):
        who = "a second team lead's approval (not the requester's)"
    else:
        who = "a person to confirm or discard its plan"
    return f"Run #{run['id']} waits for {who}: {run['url']}"


def follow(client: Client, run_id: int, *, out=sys.stdout, err=sys.stderr, stop_when_waiting: bool = True) -> int:
    after = 0
    started = last_line = last_status = monotonic()
    progress = Progress(out)
    run = client.get_patiently(f"/api/runs/{run_id}/")
    while True:
        page = client.get_patiently(f"/api/runs/{run_id}/logs/", after=after)
        now = monotonic()
        if page["lines"]:
            progress.clear()
            for line in page["lines"]:
                print(line["message"], file=out)
            out.flush()
            after = page["next"]
            last_line = now
        if page["finished"]:
            break
        if now - last_status >= STATUS_SECONDS:
            run = client.get_patiently(f"/api/runs/{run_id}/")
            last_status = now
            if stop_when_waiting and run.get("awaiting_confirmation"):
                progress.clear()
                print(_summary(run), file=out)
                print(waiting_message(run), file=err)
                return EXIT_WAITING
        if not page["lines"]:
            progress.show(
                f"{run['status']} for {_elapsed(now - started)}, Terraform quiet for {_elapsed(now - last_line)}",
                now - last_line,
            )
            sleep(POLL_SECONDS)
    progress.clear()
    run = client.get_patiently(f"/api/runs/{run_id}/")
    print(_summary(run), file=out)
    if run.get("error"):
        print(f"error: {run['error']}", file=err)
    for name, value in sorted((run.get("outputs") or {}).items()):
        print(f"output {name} = {json.dumps(value, sort_keys=True)}", file=out)
    return EXIT_OK if run["status"] == "succeeded" else EXIT_FAILED
