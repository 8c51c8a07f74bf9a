"""Benchmark: a drift sweep over many deployments, and a check's CPU against Terraform by hand.

    .venv/bin/python bench/drift_sweep.py [--deployments 300] [--workers 1] [--concurrency 2] [--sample 20]

Setup (untimed): N deployments with a deployed version, N/3 projects (dev, test, prod each), one artifact
per project (a service account, a dataset and 2 tables). Each deployment's resources are created in the
site's local cloud by `terraform init && terraform apply` by hand on the unpacked artifact (a local
backend), and the state it wrote is stored through Hangar's state services (lock, write, unlock) as the
deployment's state, with its `deployed_artifact` set: what a deploy would have left, without N runs.

Timed: `drift_sweep()` queues all N checks at once (DRIFT_SWEEP_BATCH = N, DRIFT_SWEEP_INTERVAL short so
the countdown spread is negligible), real Celery workers run them (real sandbox, Terraform, local cloud,
state backend over HTTP from a real uvicorn) until every check has finished. Printed: the wall time, checks
per minute per worker process and per pool slot, outcomes, and the workers' CPU time per check (the whole
process tree, Terraform included, from /proc) against Terraform by hand on a sample of the same
deployments, same CLI configuration, provider mirror and local cloud, with a local backend:
`plan -refresh-only -lock=false` in an initialized directory (the target: Hangar / by hand <= 1.2), and
what a check runs (`init`, `plan -refresh-only -json -out`, `show -json`) from a fresh unpack. Half of the
sample runs before the sweep and half after it.
"""

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from statistics import mean, median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _harness as h

TARGET = 1.2  # the workers' CPU per check / `terraform plan -refresh-only` by hand
SCHEMA = [
    {"name": "dt", "type": "DATE", "mode": "REQUIRED"},
    {"name": "team", "type": "STRING", "mode": "NULLABLE"},
    {"name": "resources", "type": "INTEGER", "mode": "NULLABLE"},
]
ENVIRONMENTS = ("dev", "test", "prod")
FIRST_SCID = 7000
PLAN_FILE = "drift.tfplan"
STALL = 180  # seconds without a check finishing before the sweep is given up


def write_project(root: Path, scid: int, name: str) -> Path:
    """A team's repository: one service account, one dataset and 2 tables per environment."""
    (root / "infrastructure" / "bq_schemas").mkdir(parents=True)
    (root / "infrastructure" / "bq_schemas" / "summary.json").write_text(json.dumps(SCHEMA))
    (root / "hangar.yaml").write_text(f"service_control_id: {scid}\nname: {name}\nteam: bench\n")
    tables = "".join(
        f'          - name: {table}\n            parameters:\n              schema: "file:bq_schemas/summary.json"\n'
        for table in ("summary", "details")
    )
    for env in ENVIRONMENTS:
        (root / "infrastructure" / env).mkdir()
        (root / "infrastructure" / env / "main.yaml").write_text(
            "infrastructure:\n  gcp:\n    service_accounts:\n      - name: bench-compute\n"
            "    datasets:\n      - name: bench_reports\n        parameters:\n          description: Bench\n"
            "        tables:\n" + tables
        )
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=300, help="deployments with a deployed version")
    parser.add_argument("--workers", type=int, default=1, help="Celery worker processes")
    parser.add_argument("--concurrency", type=int, default=2, help="pool processes per worker")
    parser.add_argument("--sample", type=int, default=20, help="deployments planned by hand (half before, half after)")
    parser.add_argument("--setup-threads", type=int, default=3, help="applies by hand at once during the setup")
    parser.add_argument("--sweep-interval", type=int, default=1, help="DRIFT_SWEEP_INTERVAL of the timed sweep (s)")
    parser.add_argument("--redis-db", type=int, default=10)
    args = parser.parse_args()

    site = h.Site("drift", embedded=False, redis_db=args.redis_db)
    try:
        run_benchmark(site, args)
    except KeyboardInterrupt:
        sys.exit("interrupted; processes stopped and temporary files removed")


# -- setup ---------------------------------------------------------------------------------------------


def run_benchmark(site: "h.Site", args) -> None:
    site.activate()
    from deployments.runs import toolchain

    print("building the provider mirror …", flush=True)
    toolchain.ensure_toolchain()
    started = time.perf_counter()
    deployments = setup(site, args)
    setup_seconds = time.perf_counter() - started
    print(f"setup: {len(deployments)} deployments in {setup_seconds:.0f}s", flush=True)

    web = site.web()
    site.set(SITE_URL=web.url)
    workers = [site.worker(concurrency=args.concurrency) for _ in range(args.workers)]
    group = CpuGroup.create()
    if group is None:
        print("WARNING: no cgroup could be made; the sandboxed Terraform's CPU is not counted", flush=True)
    for worker in workers:
        if group:
            group.add(worker.pid)
    print(f"{toolchain.terraform_version()}; {h.machine_note()}", flush=True)

    sample = [deployments[i * len(deployments) // args.sample] for i in range(min(args.sample, len(deployments)))]
    half = len(sample) // 2
    print(f"by hand, before the sweep ({half} deployments) …", flush=True)
    hand = [by_hand(site, item) for item in sample[:half]]
    print(f"sweeping {len(deployments)} deployments …", flush=True)
    sweep = timed_sweep(site, args, workers, group, web, len(deployments))
    print(f"by hand, after the sweep ({len(sample) - half} deployments) …", flush=True)
    hand += [by_hand(site, item) for item in sample[half:]]
    report(args, setup_seconds, sweep, hand)


def setup(site: "h.Site", args) -> list[dict]:
    """N deployments whose deployed version's resources exist and whose state Hangar holds; returns, per
    deployment, its row and the initialized directory (with a local state) it was applied from."""
    from django.contrib.auth import get_user_model

    from deployments.artifacts.build import build_artifact
    from deployments.artifacts.services import artifact_upload
    from deployments.drills.services import OVERRIDE_FILE, OVERRIDE_TEXT
    from deployments.runs import toolchain
    from deployments.runs.models import Deployment
    from deployments.runs.workspace import artifact_unpack
    from onboarding import services

    user = get_user_model().objects.create_user("bench-lead", password="x")
    team = services.team_create(name="bench", lead=user)
    projects = -(-args.deployments // len(ENVIRONMENTS))
    jobs = []
    t0 = time.perf_counter()
    for index in range(projects):
        scid, name = FIRST_SCID + index, f"drift{index}"
        project = services.project_register(service_control_id=scid, name=name, team=team, user=user)
        source = write_project(site.dir / "sources" / project.slug, scid, name)
        built = build_artifact(source_dir=source, version="1.0.0", project_slug=project.slug, builder="bench")
        artifact, _ = artifact_upload(project=project, fileobj=io.BytesIO(built.content), user=user)
        root = site.dir / "hand" / project.slug
        artifact_unpack(artifact=artifact, dest=root)
        for environment in project.environments.order_by("position"):
            if len(jobs) == args.deployments:
                break
            deployment = Deployment.objects.create(environment=environment, target="local")
            workdir = root / "infrastructure" / environment.name
            (workdir / OVERRIDE_FILE).write_text(OVERRIDE_TEXT)
            jobs.append({"deployment": deployment, "artifact": artifact, "root": root, "workdir": workdir})
    print(f"  {projects} projects registered, built, uploaded and unpacked in {time.perf_counter() - t0:.0f}s",
          flush=True)  # fmt: skip

    env = toolchain.terraform_env(site.dir / "hand", localcloud_token=site.cloud.operator_token)
    binary = toolchain.terraform_binary()

    def apply(job: dict) -> bytes:
        terraform(env, job["workdir"], binary, "init", "-input=false", "-no-color")
        terraform(env, job["workdir"], binary, "apply", "-auto-approve", "-input=false", "-no-color")
        return (job["workdir"] / "terraform.tfstate").read_bytes()

    t1 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.setup_threads) as pool:
        futures = {pool.submit(apply, job): job for job in jobs}
        for done, future in enumerate(as_completed(futures), 1):
            job = futures[future]
            state_store(job["deployment"], job["artifact"], future.result())
            if done % 30 == 0 or done == len(jobs):
                print(f"  applied by hand and stored: {done}/{len(jobs)} ({time.perf_counter() - t1:.0f}s)", flush=True)
    return jobs


def state_store(deployment, artifact, body: bytes) -> None:
    """The state an apply wrote becomes the deployment's state, through the state backend's own services."""
    from deployments.runs.models import Deployment
    from deployments.state.services import state_lock, state_unlock, state_write

    lock = {"ID": str(uuid.uuid4()), "Operation": "OperationTypeApply", "Who": "bench-setup"}
    state_lock(deployment_id=deployment.pk, info=lock)
    state_write(deployment_id=deployment.pk, body=body, lock_id=lock["ID"], run=None)
    state_unlock(deployment_id=deployment.pk, info=lock)
    Deployment.objects.filter(pk=deployment.pk).update(deployed_artifact=artifact)


def terraform(env: dict, cwd: Path, binary: str, *args: str) -> bytes:
    result = subprocess.run([binary, *args], cwd=cwd, env=env, capture_output=True)
    if result.returncode != 0:
        sys.exit(f"terraform {args[0]} in {cwd} failed:\n{result.stdout.decode()}\n{result.stderr.decode()}")
    return result.stdout


# -- CPU time ------------------------------------------------------------------------------------------
# A check's Terraform runs in bubblewrap with its own PID namespace, and the CPU of what runs in there does not
# reach the worker's rusage (bwrap's init in the namespace is not waited for in a way that passes it on: a
# CPU-bound command under `bwrap --unshare-pid` adds nothing to the caller's RUSAGE_CHILDREN). So the worker
# processes are moved into a cgroup of their own, whose CPU accounting counts every descendant wherever it
# runs; /proc gives the Python processes' own share.


class CpuGroup:
    """A cpuacct cgroup (v1) or a cgroup v2 of our own for the workers; None when neither can be made."""

    def __init__(self, path: Path, v2: bool):
        self.path, self.v2 = path, v2

    @classmethod
    def create(cls) -> "CpuGroup | None":
        name = f"hangar-bench-drift-{os.getpid()}"
        for base, v2 in ((Path("/sys/fs/cgroup/cpuacct"), False), (Path("/sys/fs/cgroup/unified"), True),
                         (Path("/sys/fs/cgroup"), True)):  # fmt: skip
            marker = base / ("cgroup.controllers" if v2 else "cpuacct.usage")
            if not marker.exists():
                continue
            try:
                (base / name).mkdir()
            except OSError:
                continue
            group = cls(base / name, v2)
            h.on_exit(group.remove)  # after the processes in it are stopped
            return group
        return None

    def add(self, pid: int) -> None:
        for process in [pid, *child_pids(pid)]:
            (self.path / "cgroup.procs").write_text(str(process))

    def seconds(self) -> float:
        if self.v2:
            stat = dict(line.split() for line in (self.path / "cpu.stat").read_text().splitlines())
            return int(stat["usage_usec"]) / 1e6
        return int((self.path / "cpuacct.usage").read_text()) / 1e9

    def remove(self) -> None:
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)


def proc_times(pid: int) -> tuple[float, float]:
    """(own user+sys, reaped children's user+sys) of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks, (int(fields[13]) + int(fields[14])) / ticks


def child_pids(pid: int) -> list[int]:
    pids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = task / "children"
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
    return pids


def worker_cpu(workers: list, group: "CpuGroup | None") -> dict:
    """The workers' CPU so far: the main processes' own, the pool processes' own (Python: Celery, Django,
    unpacking, the readable plan), and the rest of the cgroup: bwrap, Terraform and the provider (without a
    cgroup, only what reaches the pool processes' rusage, which misses everything in the sandbox)."""
    main = pool = reaped = 0.0
    for worker in workers:
        own, gone = proc_times(worker.pid)
        main += own
        reaped += gone  # exited pool processes, if any
        for child in child_pids(worker.pid):
            child_own, child_reaped = proc_times(child)
            pool += child_own
            reaped += child_reaped
    total = group.seconds() if group else main + pool + reaped
    return {"main": main, "pool": pool, "terraform": total - main - pool, "total": total}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- the timed sweep -----------------------------------------------------------------------------------


def timed_sweep(site: "h.Site", args, workers: list, group: "CpuGroup | None", web, count: int) -> dict:
    from django.db import OperationalError, connections
    from django.test import override_settings

    from deployments.drift.models import DriftCheck
    from deployments.drift.services import drift_sweep

    finished = (DriftCheck.Status.FINISHED, DriftCheck.Status.SKIPPED)
    others = {"web": web.pid, "local cloud": site.cloud.process.pid}
    before = worker_cpu(workers, group)
    others_before = {name: h.read_proc_stat(pid)[0] for name, pid in others.items()}
    start, started_at = time.perf_counter(), time.time()
    with override_settings(DRIFT_SWEEP_BATCH=count, DRIFT_SWEEP_INTERVAL=args.sweep_interval):
        ids = drift_sweep()
    queued = time.perf_counter() - start
    last_print = last_progress = start
    done = 0
    while True:
        try:  # the machine is shared: another suite may restart PostgreSQL meanwhile
            now_done = DriftCheck.objects.filter(pk__in=ids, status__in=finished).count()
        except OperationalError as error:
            print(f"  database error while waiting ({str(error).strip()}); retrying", flush=True)
            connections.close_all()
            time.sleep(1)
            continue
        now = time.perf_counter()
        if now_done == len(ids):
            break
        if now_done > done:
            done, last_progress = now_done, now
        elif now - last_progress > STALL:
            print(f"  no check finished for {STALL}s; giving up on the {len(ids) - done} left", flush=True)
            break
        if now - last_print >= 30:
            print(f"  {done}/{len(ids)} checks finished ({now - start:.0f}s)", flush=True)
            last_print = now
        if any(worker.poll() is not None for worker in workers):
            sys.exit(f"a worker exited:\n{(site.dir / 'worker.log').read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    wall = time.perf_counter() - start
    time.sleep(0.5)  # the last task returns; its Terraform was reaped before the check finished
    after = worker_cpu(workers, group)
    cpu = {key: after[key] - before[key] for key in before}
    others_cpu = {name: h.read_proc_stat(pid)[0] - others_before[name] for name, pid in others.items()}
    checks = list(DriftCheck.objects.filter(pk__in=ids))
    durations = [(c.finished_at - c.started_at).total_seconds() for c in checks if c.started_at and c.finished_at]
    return {"ids": ids, "wall": wall, "started_at": started_at, "queued": queued, "cpu": cpu, "others": others_cpu, "checks": checks,
            "durations": durations}  # fmt: skip


# -- by hand -------------------------------------------------------------------------------------------


def by_hand(site: "h.Site", job: dict) -> dict:
    """CPU (this process's reaped children) of Terraform by hand on one deployment: `plan -refresh-only` in
    the directory it was applied from (initialized, its state local), then a check's commands from a fresh
    unpack with a copy of that state."""
    from deployments.drills.services import OVERRIDE_FILE, OVERRIDE_TEXT
    from deployments.runs import toolchain
    from deployments.runs.workspace import artifact_unpack

    binary = toolchain.terraform_binary()
    env = toolchain.terraform_env(site.dir / "hand", localcloud_token=site.cloud.operator_token)
    result = {}

    def timed(name: str, cwd: Path, *args: str) -> bytes:
        cpu, wall = children_cpu(), time.perf_counter()
        out = terraform(env, cwd, binary, *args)
        result[name] = children_cpu() - cpu
        result[f"{name} wall"] = time.perf_counter() - wall
        return out

    timed("plan -refresh-only", job["workdir"], "plan", "-refresh-only", "-lock=false", "-input=false", "-no-color")

    fresh = site.dir / "fresh" / str(job["deployment"].pk)
    artifact_unpack(artifact=job["artifact"], dest=fresh)
    workdir = fresh / "infrastructure" / job["deployment"].environment.name
    (workdir / OVERRIDE_FILE).write_text(OVERRIDE_TEXT)
    shutil.copy(job["workdir"] / "terraform.tfstate", workdir / "terraform.tfstate")
    timed("init", workdir, "init", "-input=false", "-no-color")
    log = timed("plan -refresh-only -json -out", workdir, "plan", "-refresh-only", "-json", "-lock=false",
                "-input=false", f"-out={PLAN_FILE}")  # fmt: skip
    plan = json.loads(timed("show -json", workdir, "show", "-json", PLAN_FILE))
    if plan.get("resource_drift") or b'"resource_drift"' in log:
        print(f"  note: deployment {job['deployment'].pk} drifted by hand", flush=True)
    shutil.rmtree(fresh, ignore_errors=True)
    result["check by hand"] = result["init"] + result["plan -refresh-only -json -out"] + result["show -json"]
    return result


# -- report --------------------------------------------------------------------------------------------


def report(args, setup_seconds: float, sweep: dict, hand: list[dict]) -> None:
    from collections import Counter

    checks, wall, cpu = sweep["checks"], sweep["wall"], sweep["cpu"]
    unfinished = [c for c in checks if c.status not in ("finished", "skipped")]
    if unfinished:
        print(
            f"\n{len(unfinished)} checks did not finish (e.g. #{unfinished[0].pk}: {unfinished[0].status}); "
            "the figures below count only the finished ones and the wall time until the last of them"
        )
        checks = [c for c in checks if c not in unfinished]
        wall = max(c.finished_at for c in checks).timestamp() - sweep["started_at"]
    count = len(checks)
    slots = args.workers * args.concurrency
    outcomes = Counter(c.outcome or c.status for c in checks)
    per_check = {key: value / count for key, value in cpu.items()}
    total = per_check["total"]

    print()
    print(f"setup (untimed): {setup_seconds:.0f}s for {count} deployments")
    print(f"sweep: {count} checks queued in {sweep['queued']:.2f}s (DRIFT_SWEEP_INTERVAL={args.sweep_interval}s), "
          f"all finished after {wall:.1f}s wall")  # fmt: skip
    print(f"  {count / wall * 60:.1f} checks/min in all; {count / wall * 60 / args.workers:.1f} per worker process "
          f"({args.workers} × concurrency {args.concurrency}); {count / wall * 60 / slots:.1f} per pool slot")  # fmt: skip
    durations = sweep["durations"]
    print(f"  a check's own time (started → finished): median {median(durations):.2f}s, "
          f"p95 {h.percentile(durations, 0.95):.2f}s, max {max(durations):.2f}s")  # fmt: skip
    print(f"  outcomes: {dict(outcomes)}")
    for check in [c for c in checks if c.outcome != "in_sync"][:5]:
        print(f"    check {check.pk} ({check.status}/{check.outcome}): {(check.error or check.note)[-500:]}")
    print()
    print("CPU per check (seconds):")
    print(f"  {'workers, whole tree (cgroup)':44}{total:>8.3f}")
    print(f"  {'  Terraform, bwrap, provider (children)':44}{per_check['terraform']:>8.3f}")
    print(f"  {'  pool processes (Python)':44}{per_check['pool']:>8.3f}")
    print(f"  {'  main worker processes':44}{per_check['main']:>8.3f}")
    for name, seconds in sweep["others"].items():
        print(f"  {f'(not counted) {name} process':44}{seconds / count:>8.3f}")
    print(f"by hand, {len(hand)} deployments (median / mean):")
    for key in ("plan -refresh-only", "init", "plan -refresh-only -json -out", "show -json", "check by hand"):
        values = [r[key] for r in hand]
        print(f"  {key:44}{median(values):>8.3f}{mean(values):>8.3f}")
    plan = mean(r["plan -refresh-only"] for r in hand)
    check = mean(r["check by hand"] for r in hand)
    walls = [r["plan -refresh-only wall"] for r in hand]
    print(f"  (plan -refresh-only by hand, wall: median {median(walls):.2f}s)")
    ratio = total / plan
    print()
    print(f"ratio workers' CPU per check / plan -refresh-only by hand (means): {ratio:.2f} "
          f"(target <= {TARGET}: {h.verdict(ratio <= TARGET)})")  # fmt: skip
    print(f"ratio workers' CPU per check / init + plan + show -json by hand: {total / check:.2f}")
    print(f"Terraform's share in the workers / init + plan + show -json by hand: {per_check['terraform'] / check:.2f}")


if __name__ == "__main__":
    main()
