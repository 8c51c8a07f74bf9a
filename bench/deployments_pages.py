"""Benchmark: the deployments pages with a big history.

    .venv/bin/python bench/deployments_pages.py [--projects 1000] [--runs 100000] [--requests 200]

Bulk-creates users, teams, projects (3 environments each), artifacts, deployments and runs (with
their transitions) in a PostgreSQL database of its own, then requests each page in-process with
Django's test Client (interleaved, `--requests` times each) and prints server time p50/p95 and
the SQL queries per page — for a project with 1,000 runs and, to show the count is constant,
for projects with 10 and 0 runs. Target: p95 <= 100 ms, and the same query count whatever the
history.
"""

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _harness as h

TARGET_MS = 100
BATCH = 5000
TEAMS = 50
BIG, SMALL, EMPTY = 1000, 10, 0  # runs on the measured projects' dev environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--log-lines", type=int, default=300, help="log lines of the run on the run page")
    parser.add_argument("--embedded", action="store_true", help="SQLite instead of PostgreSQL")
    args = parser.parse_args()
    site = h.Site("pages", embedded=args.embedded, redis_db=15)
    try:
        site.activate()
        started = time.monotonic()
        fixture = populate(args)
        print(f"created the data in {time.monotonic() - started:.0f}s; {h.machine_note()}", flush=True)
        measure(fixture, args)
    except KeyboardInterrupt:
        sys.exit("interrupted; database and temporary files removed")


def populate(args) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from deployments.artifacts.models import Artifact
    from deployments.runs.choices import RunStatus
    from deployments.runs.models import Deployment, LogLine, Run, RunTransition
    from onboarding.models import Environment, Membership, Project, Role, Team

    rng = random.Random(7)
    User = get_user_model()
    password = make_password("x")
    users = User.objects.bulk_create(
        [User(username=f"user{i}", password=password) for i in range(TEAMS * 2)], batch_size=BATCH
    )
    teams = Team.objects.bulk_create([Team(name=f"Team {i}", slug=f"team-{i}") for i in range(TEAMS)])
    Membership.objects.bulk_create(
        [Membership(team=t, user=users[2 * i], role=Role.LEAD) for i, t in enumerate(teams)]
        + [Membership(team=t, user=users[2 * i + 1], role=Role.MEMBER) for i, t in enumerate(teams)]
    )
    projects = Project.objects.bulk_create(
        [
            Project(team=teams[i % TEAMS], service_control_id=1000 + i, name=f"proj{i}", slug=f"sc-{1000 + i}-proj{i}")
            for i in range(args.projects)
        ],
        batch_size=BATCH,
    )
    environments = Environment.objects.bulk_create(
        [
            Environment(project=p, name=name, gcp_project_id=f"{p.slug}-{name}", position=pos)
            for p in projects
            for pos, name in enumerate(("dev", "test", "prod"))
        ],
        batch_size=BATCH,
    )
    artifacts = Artifact.objects.bulk_create(
        [
            Artifact(project=p, version=f"1.{v}.0", version_key=f"00001.{v:05}.00000", sha256="0" * 64,
                     size=1, file=f"artifacts/{p.slug}/{v}.zip", manifest={}, uploaded_by=users[2 * (i % TEAMS)])
            for i, p in enumerate(projects)
            for v in range(3)
        ],
        batch_size=BATCH,
    )  # fmt: skip
    deployments = Deployment.objects.bulk_create(
        [Deployment(environment=e, target="local") for e in environments], batch_size=BATCH
    )
    # The measured projects are team 0's first three: 1,000, 10 and 0 runs on dev. The rest spread over the others.
    big, small, empty = projects[0], projects[TEAMS], projects[2 * TEAMS]
    fixed = {deployments[3 * projects.index(big)].pk: BIG, deployments[3 * projects.index(small)].pk: SMALL}
    empty_deployments = {d.pk for d in deployments[3 * projects.index(empty) : 3 * projects.index(empty) + 3]}
    others = [d for d in deployments if d.pk not in fixed and d.pk not in empty_deployments]
    plan = [pk for pk, count in fixed.items() for _ in range(count)]
    plan += [rng.choice(others).pk for _ in range(max(0, args.runs - len(plan)))]
    rng.shuffle(plan)  # interleave the big history with everybody else's, as over years
    artifact_of = {}
    for artifact in artifacts:
        artifact_of.setdefault(artifact.project_id, []).append(artifact.pk)
    project_of = {d.pk: e.project_id for d, e in zip(deployments, environments, strict=True)}
    team_users = {p.pk: users[2 * (i % TEAMS) + rng.randint(0, 1)].pk for i, p in enumerate(projects)}
    statuses = [RunStatus.SUCCEEDED] * 8 + [RunStatus.FAILED]
    for start in range(0, len(plan), BATCH):
        Run.objects.bulk_create(
            [
                Run(deployment_id=pk, artifact_id=rng.choice(artifact_of[project_of[pk]]),
                    requested_by_id=team_users[project_of[pk]], status=rng.choice(statuses), to_add=2, to_change=0,
                    to_destroy=0, worker="bench", terraform_version="Terraform v1.0.3")
                for pk in plan[start : start + BATCH]
            ]
        )  # fmt: skip
    with connection.cursor() as cursor:
        # Spread the history over time, oldest first, and point each deployment at its latest run.
        cursor.execute(
            "UPDATE deployments_run SET created_at = %s - (SELECT max(id) FROM deployments_run) * interval '1 minute' "
            "+ id * interval '1 minute'",
            [timezone.now()],
        )
        cursor.execute(
            "UPDATE deployments_run SET started_at = created_at + interval '5 second', "
            "finished_at = created_at + interval '1 minute'"
        )
    run_ids = list(Run.objects.order_by("id").values_list("id", "status", "created_at"))
    for start in range(0, len(run_ids), BATCH):
        RunTransition.objects.bulk_create(
            [
                RunTransition(run_id=pk, status=status, note="")
                for pk, final, _ in run_ids[start : start + BATCH]
                for status in (RunStatus.QUEUED, RunStatus.PLANNING, RunStatus.PLANNED, RunStatus.APPLYING, final)
            ]
        )
    latest = {}
    for pk, deployment_id, artifact_id in Run.objects.order_by("id").values_list("id", "deployment_id", "artifact_id"):
        latest[deployment_id] = (pk, artifact_id)
    touched = [d for d in deployments if d.pk in latest]
    for d in touched:
        d.last_run_id, d.deployed_artifact_id = latest[d.pk]
    Deployment.objects.bulk_update(touched, ["last_run", "deployed_artifact"], batch_size=BATCH)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    big_dev = deployments[3 * projects.index(big)]
    detail_run = Run.objects.filter(deployment=big_dev).order_by("-id").first()
    LogLine.objects.bulk_create(
        [
            LogLine(run=detail_run, seq=i + 1, at=timezone.now(), type="apply", message=f"resource {i}: Creating…")
            for i in range(args.log_lines)
        ]
    )
    lead = users[0]
    return {"lead": lead, "projects": {BIG: big, SMALL: small, EMPTY: empty}, "detail_run": detail_run}


def pages_for(project, run) -> dict[str, str]:
    from django.urls import reverse

    history = reverse("deployment_history", args=[project.slug, "dev", "local"])
    pages = {
        "deploy tab": reverse("project_deploy", args=[project.slug]),
        "deployments tab": reverse("project_deployments", args=[project.slug]),
        "history, first page": history,
        "history, deep page (40)": f"{history}?page=40",
        "API deployments": reverse("api_deployments", args=[project.slug]),
    }
    if run is not None:
        pages["run page"] = reverse("run_detail", args=[run.pk])
    return pages


def measure(fixture: dict, args) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from deployments.runs.models import Run

    client = Client()
    client.force_login(fixture["lead"])
    counts: dict[str, dict[int, int]] = {}
    for runs, project in fixture["projects"].items():
        run = (
            fixture["detail_run"]
            if runs == BIG
            else Run.objects.filter(deployment__environment__project=project).first()
        )
        for name, url in pages_for(project, run).items():
            client.get(url)  # warm: templates, URL resolver, the session
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            if response.status_code != 200:
                sys.exit(f"GET {url} answered {response.status_code}")
            counts.setdefault(name, {})[runs] = len(queries)
    urls = pages_for(fixture["projects"][BIG], fixture["detail_run"])
    times: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(args.requests):
        for name, url in urls.items():  # interleaved: each round requests every page once
            start = time.perf_counter()
            client.get(url)
            times[name].append((time.perf_counter() - start) * 1000)
    print()
    print(f"{args.projects} projects × 3 environments, {Run.objects.count()} runs; {args.requests} requests per page")
    print(f"{'page':26}{'p50':>9}{'p95':>9}{'max':>9}   SQL queries with 1000 / 10 / 0 runs   target")
    all_met = True
    for name, values in times.items():
        p95 = h.percentile(values, 0.95)
        per = counts[name]
        # With 0 runs the deployment does not exist yet, so the history has nothing to count: one query fewer.
        constant = per[BIG] == per[SMALL] and per.get(EMPTY, 0) <= per[BIG]
        met = p95 <= TARGET_MS and constant
        all_met &= met
        queries = " / ".join(str(per.get(n, "-")) for n in (BIG, SMALL, EMPTY))
        note = "constant" if constant else "GROWS"
        print(
            f"{name:26}{h.percentile(values, 0.5):>7.1f}ms{p95:>7.1f}ms{max(values):>7.1f}ms   "
            f"{queries:>14} ({note}){'':9}{h.verdict(met)}"
        )
    print(f"target p95 <= {TARGET_MS} ms and constant queries: {h.verdict(all_met)}")


if __name__ == "__main__":
    main()
