"""Benchmark: Hangar's overhead on a deploy, against running Terraform by hand on the same files.

    .venv/bin/python bench/deploy_overhead.py [--repeat 5] [--tables 18] [--pool 4] [--embedded]

Hangar side: DEPLOY (`run_start`, as the deploy page and POST /api/runs/ call it) to dev, which
applies automatically, until the run is `succeeded`, with a real uvicorn (state backend) and a real
Celery worker: `terraform plan -out`, the plan stored and read, then `terraform apply <planfile>`.
By-hand sides, on the unpacked artifact's infrastructure/dev/ with a local backend, the same CLI
configuration and provider mirror: `init && plan -out && apply <plan>` (the same steps; target
ratio <= 1.10) and `init && apply -auto-approve` (one Terraform process fewer; target <= 1.15).
The sides rotate, each repetition starting from an empty local cloud; medians are printed with
their ratios, a breakdown of Hangar's time and the CPU each side used. The web and worker processes
run with a PostgreSQL connection pool (`--pool`, DATABASE_POOL_SIZE, as README advises), and the
script waits for the run on Hangar's live wake-ups, as the run page does, not by polling.
"""

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _harness as h

TARGET = 1.15  # against init + apply -auto-approve by hand
TARGET_SAME_STEPS = 1.10  # against init + plan -out + apply <plan> by hand: what Hangar itself runs
SCHEMA = [
    {"name": "dt", "type": "DATE", "mode": "REQUIRED"},
    {"name": "team", "type": "STRING", "mode": "NULLABLE"},
    {"name": "resources", "type": "INTEGER", "mode": "NULLABLE"},
]


def write_project(root: Path, tables: int) -> Path:
    """A team's repository: one service account, one dataset and `tables` tables per environment."""
    (root / "infrastructure" / "bq_schemas").mkdir(parents=True)
    (root / "infrastructure" / "bq_schemas" / "summary.json").write_text(json.dumps(SCHEMA))
    (root / "hangar.yaml").write_text("service_control_id: 123\nname: bench\nteam: bench\n")
    table_yaml = "".join(
        f'          - name: t{i}\n            parameters:\n              schema: "file:bq_schemas/summary.json"\n'
        "              deletion_protection: false\n"  # rounds destroy what they applied
        for i in range(tables)
    )
    for env in ("dev", "test", "prod"):
        (root / "infrastructure" / env).mkdir()
        (root / "infrastructure" / env / "main.yaml").write_text(
            "infrastructure:\n  gcp:\n    service_accounts:\n      - name: bench-compute\n"
            "    datasets:\n      - name: bench_reports\n        parameters:\n          description: Bench\n"
            "        tables:\n" + table_yaml
        )
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions of each side (median printed)")
    parser.add_argument("--tables", type=int, default=18, help="tables besides the dataset and service account")
    parser.add_argument("--embedded", action="store_true", help="SQLite and the filesystem broker")
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument(
        "--pool", type=int, default=int(os.environ.get("DATABASE_POOL_SIZE", 4)),
        help="DATABASE_POOL_SIZE of the web and worker processes, as README advises for PostgreSQL (0: none)",
    )  # fmt: skip
    args = parser.parse_args()

    site = h.Site("deploy", embedded=args.embedded, redis_db=args.redis_db)
    site.set(RUN_HEARTBEAT_INTERVAL="5", DATABASE_POOL_SIZE=str(0 if args.embedded else args.pool))
    try:
        run_benchmark(site, args)
    except KeyboardInterrupt:
        sys.exit("interrupted; processes stopped and temporary files removed")


def run_benchmark(site: "h.Site", args) -> None:
    site.activate()
    from deployments.artifacts.build import build_artifact
    from deployments.artifacts.services import artifact_upload
    from deployments.runs import toolchain
    from deployments.runs.choices import Operation
    from deployments.runs.workspace import artifact_unpack
    from localcloud.launcher import wipe
    from onboarding import services

    print("building the provider mirror …", flush=True)
    toolchain.ensure_toolchain()
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("bench-lead", password="x")
    team = services.team_create(name="bench", lead=user)
    project = services.project_register(service_control_id=123, name="bench", team=team, user=user)
    source = write_project(site.dir / "source", args.tables)
    built = build_artifact(source_dir=source, version="1.0.0", project_slug=project.slug, builder="bench")
    artifact, _ = artifact_upload(project=project, fileobj=io.BytesIO(built.content), user=user)
    resources = 2 + args.tables

    # By hand: the same files, with a local backend instead of Hangar's http backend.
    unpacked = site.dir / "unpacked"
    artifact_unpack(artifact=artifact, dest=unpacked)
    hand_source = unpacked / "infrastructure" / "dev"
    (hand_source / "backend.tf").write_text('terraform {\n  backend "local" {}\n}\n')

    web = site.web()
    site.set(SITE_URL=web.url)
    worker = site.worker(concurrency=1)
    SITE_PROCESSES.update({"web (uvicorn: state backend)": web.pid, "worker (Celery + Terraform + providers)": worker.pid,
                           "local cloud service": site.cloud.process.pid})  # fmt: skip
    pool = "SQLite" if args.embedded else f"DATABASE_POOL_SIZE={args.pool}"
    print(f"{toolchain.terraform_version()}; {resources} local cloud resources; {pool}; {h.machine_note()}", flush=True)

    def hangar_deploy(operation: str = Operation.APPLY) -> dict:
        return deploy(project, user, operation)

    def by_hand(index: int, *, plan_file: bool = False) -> dict:
        copy = site.dir / f"hand-{index}-{plan_file}"
        shutil.copytree(unpacked, copy)  # modules are bundled beside infrastructure/
        workdir = copy / hand_source.relative_to(unpacked)
        wipe(site.cloud.client())  # an empty local cloud each time
        env = toolchain.terraform_env(workdir, localcloud_token=site.cloud.operator_token)
        binary = toolchain.terraform_binary()
        start, cpu = time.perf_counter(), cpu_busy()
        terraform(env, workdir, binary, "init", "-input=false", "-no-color")
        middle = time.perf_counter()
        if plan_file:  # Hangar's steps: a saved plan, then applying exactly that plan
            terraform(env, workdir, binary, "plan", "-input=false", "-no-color", "-out=run.tfplan")
            planned = time.perf_counter()
            terraform(env, workdir, binary, "apply", "-input=false", "-no-color", "run.tfplan")
        else:
            terraform(env, workdir, binary, "apply", "-auto-approve", "-input=false", "-no-color")
        end, cpu = time.perf_counter(), cpu_busy() - cpu
        shutil.rmtree(copy, ignore_errors=True)
        wipe(site.cloud.client())  # untimed: the Hangar side starts from an empty cloud too
        if plan_file:
            return {"total": end - start, "cpu": cpu, "init": middle - start, "plan": planned - middle,
                    "apply": end - planned}  # fmt: skip
        return {"total": end - start, "cpu": cpu, "init": middle - start, "apply": end - middle}

    print("warming up (one untimed round of each side) …", flush=True)
    hangar_deploy()
    hangar_deploy(Operation.DESTROY)
    by_hand(0)

    hangar_rounds, hand_rounds, planned_rounds = [], [], []
    sides = ["hangar", "hand", "planned"]
    for index in range(1, args.repeat + 1):
        for side in sides[index % 3 :] + sides[: index % 3]:  # rotate who goes first
            if side == "hangar":
                hangar_rounds.append(hangar_deploy())
                hangar_deploy(Operation.DESTROY)  # back to an empty local cloud, untimed
            elif side == "hand":
                hand_rounds.append(by_hand(index))
            else:
                planned_rounds.append(by_hand(index, plan_file=True))
        print(
            f"  round {index}: Hangar {hangar_rounds[-1]['total']:.2f}s, by hand {hand_rounds[-1]['total']:.2f}s, "
            f"by hand with a plan file {planned_rounds[-1]['total']:.2f}s",
            flush=True,
        )
    report(hangar_rounds, hand_rounds, planned_rounds, resources)
    speculative_round(project, user, site, args.tables)


def speculative_round(project, user, site: "h.Site", tables: int) -> None:
    """Upload → every environment's speculative plan finished, with dev, test and prod all deployed."""
    from deployments.artifacts.build import build_artifact
    from deployments.artifacts.services import artifact_upload
    from deployments.plans.models import SpeculativePlan
    from deployments.plans.speculative import speculative_plans_start
    from deployments.runs import services as runs
    from deployments.runs.choices import FINAL_STATUSES, RunStatus

    print("\ndeploying 1.0.0 to dev, test and prod for the speculative plans (untimed) …", flush=True)
    for environment in ("dev", "test", "prod"):
        run = runs.run_start(project=project, environment=environment, target="local", version="1.0.0",
                             operation="apply", user=user)  # fmt: skip
        while True:
            run.refresh_from_db()
            if run.awaiting_confirmation:
                runs.run_confirm(run=run, user=user)  # prod waits for a person
            elif run.status in FINAL_STATUSES:
                break
            time.sleep(0.05)
        if run.status != RunStatus.SUCCEEDED:
            sys.exit(f"deploying 1.0.0 to {environment} failed: {run.error}")
    source = write_project(site.dir / "source-1.0.1", tables + 1)
    built = build_artifact(source_dir=source, version="1.0.1", project_slug=project.slug, builder="bench")
    start = time.perf_counter()
    artifact, _ = artifact_upload(project=project, fileobj=io.BytesIO(built.content), user=user)
    speculative_plans_start(artifact=artifact)
    while True:
        plans = list(SpeculativePlan.objects.filter(artifact=artifact).select_related("deployment__environment"))
        if plans and all(plan.is_finished for plan in plans):
            break
        time.sleep(0.05)
    total = time.perf_counter() - start
    failed = [plan for plan in plans if plan.status != SpeculativePlan.Status.SUCCEEDED]
    if failed:
        sys.exit(f"a speculative plan failed: {failed[0].error}")
    each = ", ".join(
        f"{p.deployment.environment.name} {(p.finished_at - p.started_at).total_seconds():.2f}s" for p in plans
    )
    print(f"upload → all {len(plans)} environments' speculative plans: {total:.2f}s (one worker process; {each})")


class RunWakeups:
    """Waits as the run page does: on Hangar's live wake-ups (Redis), not by polling the database, whose
    queries would take CPU from the run being measured. Without Redis (--embedded) it polls every 10 ms."""

    def __init__(self):
        from django.conf import settings

        self.pubsub = None
        if settings.LIVE_REDIS_URL:
            import redis

            from deployments.live.wakeups import CHANNEL

            self.pubsub = redis.Redis.from_url(settings.LIVE_REDIS_URL).pubsub(ignore_subscribe_messages=True)
            self.pubsub.subscribe(CHANNEL)

    def wait(self, run_id: int) -> None:
        if self.pubsub is None:
            time.sleep(0.01)
            return
        deadline = time.monotonic() + 1.0  # a lost wake-up costs a second, never the round
        while (left := deadline - time.monotonic()) > 0:
            message = self.pubsub.get_message(timeout=left)
            if message and message["data"] == str(run_id).encode():
                return

    def close(self) -> None:
        if self.pubsub is not None:
            self.pubsub.close()


SITE_PROCESSES: dict[str, int] = {}  # name → pid, filled once the processes run


def _process_cpu(pid: int, *, children: bool) -> float:
    """utime + stime of a process (+ its waited-for children: Terraform and providers, via the sandbox)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    used = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return used / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_by_process() -> dict[str, float]:
    """CPU seconds used so far by each part of the site, and by PostgreSQL and this script."""
    used = {}
    for name, pid in SITE_PROCESSES.items():
        tree = [pid, *_children(pid)]
        used[name] = sum(_process_cpu(each, children=True) for each in tree)
    postgres = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.read_text().split(" (", 1)[1].startswith("postgres)"):
                postgres += _process_cpu(int(stat.parent.name), children=False)
        except (OSError, IndexError):
            continue
    used["PostgreSQL"] = postgres
    times = os.times()
    used["this script"] = times.user + times.system
    return used


def cpu_busy() -> float:
    """CPU seconds the whole machine has spent busy so far (every process, all cores), from /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq = (
        int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]
    )  # steal (a neighbour's use of this machine's host) is not ours
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def terraform(env: dict, cwd: Path, binary: str, *args: str) -> None:
    result = subprocess.run([binary, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"terraform {args[0]} failed:\n{result.stdout}\n{result.stderr}")


def deploy(project, user, operation: str) -> dict:
    """DEPLOY and wait for the run to end; returns the total and Hangar's phases in seconds.

    dev applies automatically, so an apply that destroys nothing runs plan -out, stores the plan and
    applies it at once; the untimed destroy between rounds confirms its destruction up front, as a
    pipeline that means it does."""
    from deployments.runs import services as runs
    from deployments.runs.choices import FINAL_STATUSES, RunStatus
    from deployments.runs.models import LogLine, Run

    wakeups = RunWakeups()  # subscribed before the run exists, so no wake-up is missed
    start, cpu, processes = time.time(), cpu_busy(), cpu_by_process()
    run = runs.run_start(
        project=project, environment="dev", target="local", version="1.0.0", operation=operation, user=user,
        confirm_destroy=operation == "destroy",
    )  # fmt: skip
    while True:
        status = Run.objects.filter(pk=run.pk).values_list("status", flat=True).get()
        if status in FINAL_STATUSES:
            break
        wakeups.wait(run.pk)
    seen, cpu = time.time(), cpu_busy() - cpu
    wakeups.close()
    processes = {name: used - processes.get(name, 0.0) for name, used in cpu_by_process().items()}
    if status != RunStatus.SUCCEEDED:
        messages = "\n".join(LogLine.objects.filter(run=run).values_list("message", flat=True))
        sys.exit(f"run {run.pk} ended {status}:\n{messages[-3000:]}")
    at = {t.status: t.at.timestamp() for t in run.transitions.all()}
    lines = [(kind, when.timestamp(), text) for kind, when, text in
             LogLine.objects.filter(run=run).order_by("seq").values_list("type", "at", "message")]  # fmt: skip
    terraform_lines = [when for kind, when, _ in lines if kind not in ("init", "hangar")]
    init_lines = [when for kind, when, _ in lines if kind == "init"]
    # Hangar's line naming the Terraform version comes once the workspace and credentials are ready.
    prepared = next((when for kind, when, text in lines if kind == "hangar" and text.startswith("Terraform v")),
                    at["planning"])  # fmt: skip
    init_end = init_lines[-1] if init_lines else prepared
    plan_end = max((when for when in terraform_lines if when < at["planned"]), default=init_end)
    apply_end = max((when for when in terraform_lines if when >= at["applying"]), default=at["applying"])
    return {
        "total": seen - start,
        "cpu": cpu,
        "cpu by process": processes,
        "queue pickup (DEPLOY → worker claims)": at["planning"] - start,
        "unpack + checks + credentials": prepared - at["planning"],
        "terraform init": init_end - prepared,
        "terraform plan -out": plan_end - init_end,
        "show -json, store and read the plan": at["planned"] - plan_end,
        "auto-apply decision (planned → applying)": at["applying"] - at["planned"],
        "terraform apply <planfile>": apply_end - at["applying"],
        "finish (store outputs, release, commit)": at[RunStatus.SUCCEEDED] - apply_end,
        "seen by the caller": seen - at[RunStatus.SUCCEEDED],
    }


def report(hangar_rounds: list[dict], hand_rounds: list[dict], planned_rounds: list[dict], resources: int) -> None:
    hangar = median(r["total"] for r in hangar_rounds)
    hand = median(r["total"] for r in hand_rounds)
    ratio_per_round = [a["total"] / b["total"] for a, b in zip(hangar_rounds, hand_rounds, strict=False)]
    print()
    print(f"{'':44}{'median':>9}{'min':>9}{'max':>9}")
    for label, rounds in (
        ("Hangar: DEPLOY → succeeded", hangar_rounds),
        ("by hand: init + apply", hand_rounds),
        ("by hand: init + plan -out + apply plan", planned_rounds),
    ):
        totals = [r["total"] for r in rounds]
        print(f"{label:44}{median(totals):>8.2f}s{min(totals):>8.2f}s{max(totals):>8.2f}s")
    for label, rounds in (("Hangar", hangar_rounds), ("by hand: init + apply", hand_rounds),
                          ("by hand: init + plan -out + apply plan", planned_rounds)):  # fmt: skip
        print(f"{'  CPU, whole machine: ' + label:60}{median(r['cpu'] for r in rounds):>8.2f}s")
    print(f"{'  by hand: terraform init':44}{median(r['init'] for r in hand_rounds):>8.2f}s")
    print(f"{'  by hand: terraform apply -auto-approve':44}{median(r['apply'] for r in hand_rounds):>8.2f}s")
    for step in ("init", "plan", "apply"):
        label = f"  by hand with a plan file: terraform {step}"
        print(f"{label:44}{median(r[step] for r in planned_rounds):>8.2f}s")
    print()
    print("Hangar's time, by phase (medians):")
    for phase in hangar_rounds[0]:
        if phase not in ("total", "cpu", "cpu by process"):
            print(f"  {phase:42}{median(r[phase] for r in hangar_rounds):>8.2f}s")
    print()
    print("CPU seconds used during a Hangar deploy, by process (medians):")
    for name in hangar_rounds[0]["cpu by process"]:
        print(f"  {name:42}{median(r['cpu by process'][name] for r in hangar_rounds):>8.2f}s")
    print()
    print(f"{resources} resources, {len(hangar_rounds)} interleaved rounds")
    same_steps = hangar / median(r["total"] for r in planned_rounds)
    per_round = [a["total"] / b["total"] for a, b in zip(hangar_rounds, planned_rounds, strict=False)]
    print(f"per-round ratios against a saved plan by hand: {', '.join(f'{r:.2f}' for r in per_round)}")
    print(
        f"ratio of medians Hangar / by hand with a saved plan (the same steps): {same_steps:.2f} "
        f"(target <= {TARGET_SAME_STEPS}: {h.verdict(same_steps <= TARGET_SAME_STEPS)})"
    )
    ratio = hangar / hand
    print(f"per-round ratios against init + apply by hand: {', '.join(f'{r:.2f}' for r in ratio_per_round)}")
    print(
        f"ratio of medians Hangar / by hand init + apply: {ratio:.2f} (target <= {TARGET}: {h.verdict(ratio <= TARGET)})"
    )


if __name__ == "__main__":
    main()
