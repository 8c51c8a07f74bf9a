"""Benchmark: a sandbox's whole life, create → applied → destroyed, against the same apply and destroy by hand.

    .venv/bin/python bench/sandbox_lifecycle.py [--repeat 3] [--tables 18] [--redis-db 9]

Hangar side: `sandbox_create` (as the Sandboxes tab and POST /api/projects/<slug>/sandboxes/ call it)
until its apply run has `succeeded`, then `sandbox_destroy` (DELETE) until the sandbox is recorded
destroyed (the destroy run succeeded, and Hangar checked that the cloud project is empty), with a real
uvicorn (state backend) and a real Celery worker. Each round is a new sandbox, so a new cloud project.
By-hand sides, on the unpacked artifact's infrastructure/dev/ with a local backend, the same CLI
configuration, provider mirror and override of local.project_id: `init && apply -auto-approve &&
destroy -auto-approve` and, with Hangar's own steps, `init && plan -out && apply <plan> && plan
-destroy -out && apply <plan>`. The sides rotate; medians are printed with their ratios.
Default: 18 tables + a dataset + a service account = 20 resources. Its own database
(hangar_bench_sandbox) and Redis database (9).
"""

import argparse
import io
import shutil
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _harness as h
from deploy_overhead import write_project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions of each side (median printed)")
    parser.add_argument("--tables", type=int, default=18, help="tables besides the dataset and service account")
    parser.add_argument("--redis-db", type=int, default=9)
    args = parser.parse_args()

    site = h.Site("sandbox", embedded=False, redis_db=args.redis_db)
    site.set(RUN_HEARTBEAT_INTERVAL="5", SANDBOX_MAX_PER_TEAM="1000")
    try:
        run_benchmark(site, args)
    except KeyboardInterrupt:
        sys.exit("interrupted; processes stopped and temporary files removed")


def run_benchmark(site: "h.Site", args) -> None:
    site.activate()
    from django.contrib.auth import get_user_model

    from deployments.artifacts.build import build_artifact
    from deployments.artifacts.services import artifact_upload
    from deployments.runs import toolchain
    from deployments.runs.workspace import artifact_unpack
    from onboarding import services

    print("building the provider mirror …", flush=True)
    toolchain.ensure_toolchain()
    user = get_user_model().objects.create_user("bench-lead", password="x")
    team = services.team_create(name="bench", lead=user)
    project = services.project_register(service_control_id=123, name="bench", team=team, user=user)
    source = write_project(site.dir / "source", args.tables)
    built = build_artifact(source_dir=source, version="1.0.0", project_slug=project.slug, builder="bench")
    artifact, _ = artifact_upload(project=project, fileobj=io.BytesIO(built.content), user=user)
    resources = 2 + args.tables

    unpacked = site.dir / "unpacked"
    artifact_unpack(artifact=artifact, dest=unpacked)
    (unpacked / "infrastructure" / "dev" / "backend.tf").write_text('terraform {\n  backend "local" {}\n}\n')

    web = site.web()
    site.set(SITE_URL=web.url)
    site.worker(concurrency=1)
    print(f"{toolchain.terraform_version()}; {resources} local cloud resources; {h.machine_note()}", flush=True)

    def by_hand(index: int, *, plan_file: bool) -> dict:
        copy = site.dir / f"hand-{index}-{plan_file}"
        shutil.copytree(unpacked, copy)
        workdir = copy / "infrastructure" / "dev"
        project_id = f"sc-123-bench-hand{index}{'p' if plan_file else ''}"
        # The same override Hangar writes for a sandbox: the definition, in a project of its own.
        (workdir / "bench_override.tf").write_text(f'locals {{\n  project_id = "{project_id}"\n}}\n')
        env = toolchain.terraform_env(workdir, localcloud_token=site.cloud.operator_token)
        binary = toolchain.terraform_binary()
        tf = lambda *a: terraform(env, workdir, binary, *a)  # noqa: E731
        start = time.perf_counter()
        tf("init", "-input=false", "-no-color")
        if plan_file:
            tf("plan", "-input=false", "-no-color", "-out=run.tfplan")
            tf("apply", "-input=false", "-no-color", "run.tfplan")
        else:
            tf("apply", "-auto-approve", "-input=false", "-no-color")
        applied = time.perf_counter()
        if plan_file:
            tf("plan", "-destroy", "-input=false", "-no-color", "-out=destroy.tfplan")
            tf("apply", "-input=false", "-no-color", "destroy.tfplan")
        else:
            tf("destroy", "-auto-approve", "-input=false", "-no-color")
        end = time.perf_counter()
        shutil.rmtree(copy, ignore_errors=True)
        left = site.cloud.client().list_resources(project_id)
        if left:
            sys.exit(f"by hand left {len(left)} resources in {project_id}")
        return {"total": end - start, "create": applied - start, "destroy": end - applied}

    print("warming up (one untimed round of each side) …", flush=True)
    lifecycle(project, user)
    by_hand(0, plan_file=False)

    rounds: dict[str, list[dict]] = {"hangar": [], "hand": [], "planned": []}
    sides = list(rounds)
    for index in range(1, args.repeat + 1):
        for side in sides[index % 3 :] + sides[: index % 3]:  # rotate who goes first
            if side == "hangar":
                rounds[side].append(lifecycle(project, user))
            else:
                rounds[side].append(by_hand(index, plan_file=side == "planned"))
        print(
            f"  round {index}: Hangar {rounds['hangar'][-1]['total']:.2f}s, by hand {rounds['hand'][-1]['total']:.2f}s, "
            f"by hand with plan files {rounds['planned'][-1]['total']:.2f}s",
            flush=True,
        )
    report(rounds, resources)


def lifecycle(project, user) -> dict:
    """Create a sandbox, wait until applied, destroy it, wait until recorded destroyed."""
    from deployments.runs.choices import RunStatus
    from deployments.runs.models import Run
    from deployments.sandboxes import services
    from deployments.sandboxes.models import Sandbox

    start = time.time()
    sandbox = services.sandbox_create(project=project, version="1.0.0", user=user, ttl_hours=1)
    run = wait_run(sandbox.create_run_id)
    applied = time.time()
    if run.status != RunStatus.SUCCEEDED:
        sys.exit(f"sandbox apply {run.pk} ended {run.status}: {run.error}")
    destroy = services.sandbox_destroy(sandbox=sandbox, user=user)
    while True:
        row = Sandbox.objects.filter(pk=sandbox.pk).values_list("destroyed_at", "destroy_failed").get()
        if row[0] is not None:
            break
        if row[1]:
            sys.exit(f"sandbox destroy failed: {Sandbox.objects.get(pk=sandbox.pk).destroy_error}")
        time.sleep(0.01)
    end = time.time()
    destroy = Run.objects.get(pk=destroy.pk)
    return {
        "total": end - start,
        "create": applied - start,
        "destroy": end - applied,
        "apply run (created → finished)": (run.finished_at - run.created_at).total_seconds(),
        "destroy run (created → finished)": (destroy.finished_at - destroy.created_at).total_seconds(),
        **{f"destroy: {name}": seconds for name, seconds in phases(destroy).items()},
        "destroy: recorded destroyed (cloud checked)": end - destroy.finished_at.timestamp(),
    }


def phases(run) -> dict:
    """Where a destroy run's time goes, from its transitions and log lines."""
    from deployments.runs.models import LogLine

    at = {t.status: t.at.timestamp() for t in run.transitions.all()}
    lines = list(LogLine.objects.filter(run=run).order_by("seq").values_list("type", "at", "message"))
    init = [when.timestamp() for kind, when, _ in lines if kind == "init"]
    prepared = next((when.timestamp() for kind, when, text in lines if kind == "hangar" and text.startswith("Terraform v")),
                    at["planning"])  # fmt: skip
    init_end = init[-1] if init else prepared
    plan = [
        when.timestamp()
        for kind, when, _ in lines
        if kind not in ("init", "hangar") and when.timestamp() < at["planned"]
    ]
    plan_end = max(plan, default=init_end)
    return {
        "queue pickup": at["planning"] - run.created_at.timestamp(),
        "unpack + checks + credentials": prepared - at["planning"],
        "terraform init": init_end - prepared,
        "terraform plan -destroy -out": plan_end - init_end,
        "show -json, protection check, review (row counts), store": at["planned"] - plan_end,
        "planned → applying": at["applying"] - at["planned"],
        "terraform apply <planfile> + finish": run.finished_at.timestamp() - at["applying"],
    }


def wait_run(run_id: int):
    from deployments.runs.choices import FINAL_STATUSES
    from deployments.runs.models import Run

    while True:
        run = Run.objects.get(pk=run_id)
        if run.status in FINAL_STATUSES:
            return run
        time.sleep(0.01)


def report(rounds: dict[str, list[dict]], resources: int) -> None:
    def med(side: str, key: str) -> float:
        return median(r[key] for r in rounds[side])

    print(f"\nmedians over {len(rounds['hangar'])} rounds, {resources} resources:")
    print(f"{'':36} {'total':>8} {'create':>8} {'destroy':>8}")
    for side, label in (
        ("hangar", "Hangar sandbox (create → destroyed)"),
        ("hand", "by hand (apply, destroy)"),
        ("planned", "by hand with plan files"),
    ):
        print(f"{label:36} {med(side, 'total'):8.2f} {med(side, 'create'):8.2f} {med(side, 'destroy'):8.2f}")
    for key in rounds["hangar"][0]:
        if key not in ("total", "create", "destroy"):
            print(f"  {key}: {med('hangar', key):.2f}s")
    print(
        f"ratio Hangar / by hand: {med('hangar', 'total') / med('hand', 'total'):.2f}; "
        f"Hangar / by hand with plan files: {med('hangar', 'total') / med('planned', 'total'):.2f}"
    )


def terraform(env: dict, cwd: Path, binary: str, *args: str) -> None:
    result = subprocess.run([binary, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"terraform {args[0]} failed:\n{result.stdout}\n{result.stderr}")


if __name__ == "__main__":
    main()
