"""hangar: Hangar's command line. Exit codes: 0 success, 1 failure (a problem found, a refusal, a run
that failed), 2 bad usage, 3 a run that waits for a person (confirmation or approval)."""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
import zipfile
from pathlib import Path

import yaml

from deployments.artifacts.project_file import ProjectInfo
from hangar_cli import __version__, config, local
from hangar_cli.client import ApiError, Client
from hangar_cli.follow import follow

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_WAITING = 0, 1, 2, 3
ENVIRONMENTS = ("dev", "test", "prod")
OPERATIONS = {"plan": "plan", "deploy": "apply", "destroy": "destroy"}
SLUG = re.compile(r"^sc-(\d+)-([a-z][a-z0-9-]*)$")


def _client() -> Client:
    settings = config.load_config()
    if not settings.url or not settings.token:
        missing = " and ".join(
            name for name, value in (("HANGAR_URL", settings.url), ("HANGAR_TOKEN", settings.token)) if not value
        )
        raise local.UsageError(f"{missing} not set: export them, or run `hangar login`")
    return Client(settings.url, settings.token)


def _project_slug(args) -> str:
    return args.project or local.read_project(args.dir).slug


# Local commands -----------------------------------------------------------------------------------


def cmd_validate(args) -> int:
    return local.validate(args.dir, target=args.target)


def cmd_build(args) -> int:
    return local.build(
        args.dir,
        version=args.version,
        output=args.output,
        project=args.project,
        target=args.target,
        build_time=args.build_time,
        builder=args.builder,
        source_revision=args.source_revision,
    )


def cmd_diff(args) -> int:
    return local.diff(args.zip_a, args.zip_b, terraform=args.terraform)


def cmd_init(args) -> int:
    match = SLUG.fullmatch(args.project)
    if not match:
        raise local.UsageError(f"--project {args.project!r} is not a project slug such as sc-123-example")
    team = args.team
    if not team:
        try:
            team = _client().get(f"/api/projects/{args.project}/")["team"]
        except ApiError as error:
            print(f"hangar: cannot read the project's team from Hangar: {error.message}", file=sys.stderr)
            raise local.UsageError("give --team TEAM (the team's slug)") from None
    project = ProjectInfo(service_control_id=int(match[1]), name=match[2], team=team)
    return local.init(args.directory, project=project, force=args.force)


# Server commands ----------------------------------------------------------------------------------


def cmd_login(args) -> int:
    current = config.load_config()
    url = (args.url or current.url or input("Hangar URL (e.g. https://hangar.example.com): ")).strip().rstrip("/")
    if args.token_stdin:
        token = sys.stdin.readline().strip()
    else:
        print(f"Create a token on {url}/profile/tokens/ and paste it here.", file=sys.stderr)
        token = getpass.getpass("Token: ").strip()
    if not url or not token:
        raise local.UsageError("a URL and a token are needed")
    me = Client(url, token).get("/api/me/")
    path = config.save_config(url=url, token=token)
    detail = me.get("token") or {}
    expires = f", expires {detail['expires_at']}" if detail.get("expires_at") else ""
    print(f"Logged in to {url} as {me['username']} (token {detail.get('name', '?')}{expires}); saved in {path}")
    return EXIT_OK


def cmd_logout(args) -> int:
    removed = config.forget_config()
    print(f"{config.config_path()}: {'removed' if removed else 'there was none'}")
    return EXIT_OK


def cmd_config(args) -> int:
    settings = config.load_config()
    token = f"{settings.token[:11]}…" if settings.token else None
    print(f"url:   {settings.url or '(not set)'}{f'  (from {settings.url_from})' if settings.url else ''}")
    print(f"token: {token or '(not set)'}{f'  (from {settings.token_from})' if token else ''}")
    print(f"file:  {config.config_path()}")
    if args.check:
        me = _client().get("/api/me/")
        detail = me.get("token") or {}
        print(f"user:  {me['username']} (token {detail.get('name')}, expires {detail.get('expires_at')})")
    return EXIT_OK


def _zip_project(path: str) -> tuple[str, str]:
    try:
        with zipfile.ZipFile(path) as archive:
            metadata = yaml.safe_load(archive.read("metadata.yaml"))
        return str(metadata["project"]), str(metadata["version"])
    except FileNotFoundError:
        raise local.UsageError(f"{path}: no such file") from None
    except (OSError, KeyError, TypeError, zipfile.BadZipFile, yaml.YAMLError):
        raise local.UsageError(f"{path}: not an artifact built by `hangar build` (no metadata.yaml)") from None


def cmd_upload(args) -> int:
    project, version = _zip_project(args.zip)
    project = args.project or project
    client = _client()
    with open(args.zip, "rb") as handle:
        try:
            response = client.request(
                "POST",
                f"/api/projects/{project}/artifacts/",
                files={"file": (Path(args.zip).name, handle, "application/zip")},
            )
        except ApiError as error:
            if error.status == 400:
                print(f"{args.zip}: refused:", file=sys.stderr)
                for line in error.message.splitlines():
                    print(f"  {line.removeprefix('file: ')}", file=sys.stderr)
                return EXIT_FAILED
            raise
    if response.status_code == 201:
        print(f"Uploaded {project} {version}")
    else:
        print(f"{project} {version}: identical to the stored version: nothing changed")
    return EXIT_OK


def cmd_run(args) -> int:
    client = _client()
    body = {
        "project": _project_slug(args),
        "environment": args.env,
        "target": args.target,
        "version": args.version,
        "operation": OPERATIONS[args.command],
        "confirm_destroy": args.confirm_destroy,
    }
    try:
        _, run = client.post("/api/runs/", json=body)
    except ApiError as error:
        if error.status == 400:
            print(f"hangar: {error.message}", file=sys.stderr)
            return EXIT_USAGE
        raise
    print(
        f"Run #{run['id']}: {run['operation']} of {run['version']} on {run['project']} {run['environment']}: {run['url']}"
    )
    if not args.wait:
        return EXIT_OK
    return follow(client, run["id"])


def cmd_runs(args) -> int:
    project = args.project
    if project is None and not args.all:
        try:
            project = local.read_project(".").slug
        except local.UsageError:
            project = None
    page = _client().get("/api/runs/", project=project, environment=args.env, status=args.status)
    rows = page.get("results", page)[: args.limit]
    if not rows:
        print("no runs")
        return EXIT_OK
    print(
        f"{'RUN':>6}  {'PROJECT':<24} {'ENV':<5} {'OPERATION':<9} {'VERSION':<12} {'STATUS':<10} {'REQUESTED':<17} BY"
    )
    for run in rows:
        status = "waiting" if run.get("awaiting_confirmation") else run["status"]
        print(
            f"{run['id']:>6}  {run['project']:<24} {run['environment']:<5} {run['operation']:<9} {run['version']:<12} "
            f"{status:<10} {run['created_at'][:16].replace('T', ' '):<17} {run.get('requested_by') or '—'}"
        )
    return EXIT_OK


def cmd_logs(args) -> int:
    client = _client()
    if args.follow:
        return follow(client, args.run, stop_when_waiting=False)
    after = 0
    while True:
        page = client.get(f"/api/runs/{args.run}/logs/", after=after, limit=5000)
        for line in page["lines"]:
            print(line["message"])
        if not page["lines"]:
            return EXIT_OK
        after = page["next"]


def cmd_cancel(args) -> int:
    _, run = _client().post(f"/api/runs/{args.run}/cancel/")
    print(f"Run #{run['id']}: {run['status']} (cancel requested)")
    return EXIT_OK


def _sandbox_line(sandbox: dict) -> str:
    expires = (sandbox.get("expires_at") or "")[:16].replace("T", " ")
    return (
        f"{sandbox['id']:>4}  {sandbox['name']:<8} {sandbox['gcp_project_id']:<31} {sandbox['version']:<12} "
        f"{sandbox['status']:<15} {expires:<17} {sandbox.get('owner') or '—'}"
    )


def _sandbox_done(client: Client, slug: str, sandbox: dict, run_id: int | None, args) -> int:
    """Follow the sandbox's run when asked, then print the sandbox (as JSON with --json)."""
    code = EXIT_OK
    if args.wait and run_id:
        code = follow(client, run_id, out=sys.stderr if args.json else sys.stdout)
        sandbox = client.get(f"/api/projects/{slug}/sandboxes/{sandbox['id']}/")
    if args.json:
        print(json.dumps(sandbox, indent=2, sort_keys=True))
    else:
        print(_sandbox_line(sandbox))
        for name, value in sorted((sandbox.get("outputs") or {}).items()):
            print(f"  {name} = {json.dumps(value)}")
    if sandbox["status"] in ("create_failed", "destroy_failed"):
        return EXIT_FAILED
    return code


def cmd_sandbox_create(args) -> int:
    client, slug = _client(), _project_slug(args)
    body = {"version": args.version, "base_environment": args.base, "ttl_hours": args.ttl}
    try:
        _, sandbox = client.post(f"/api/projects/{slug}/sandboxes/", json={k: v for k, v in body.items() if v})
    except ApiError as error:
        if error.status == 400:
            print(f"hangar: {error.message}", file=sys.stderr)
            return EXIT_USAGE
        raise
    print(f"Sandbox {sandbox['name']} ({sandbox['gcp_project_id']}) until {sandbox['expires_at']}", file=sys.stderr)
    return _sandbox_done(client, slug, sandbox, sandbox.get("create_run"), args)


def cmd_sandbox_show(args) -> int:
    client, slug = _client(), _project_slug(args)
    args.wait = False
    return _sandbox_done(client, slug, client.get(f"/api/projects/{slug}/sandboxes/{args.id}/"), None, args)


def cmd_sandbox_list(args) -> int:
    sandboxes = _client().get(f"/api/projects/{_project_slug(args)}/sandboxes/")
    live = [s for s in sandboxes if args.all or s["status"] != "destroyed"]
    if not live:
        print("no sandboxes")
        return EXIT_OK
    print(f"{'ID':>4}  {'NAME':<8} {'CLOUD PROJECT':<31} {'VERSION':<12} {'STATUS':<15} {'EXPIRES':<17} OWNER")
    for sandbox in live:
        print(_sandbox_line(sandbox))
    return EXIT_OK


def cmd_sandbox_extend(args) -> int:
    client, slug = _client(), _project_slug(args)
    _, sandbox = client.post(f"/api/projects/{slug}/sandboxes/{args.id}/extend/", json={"hours": args.hours})
    print(f"Sandbox {sandbox['name']} now expires at {sandbox['expires_at']}")
    return EXIT_OK


def cmd_sandbox_delete(args) -> int:
    client, slug = _client(), _project_slug(args)
    sandbox = client.request("DELETE", f"/api/projects/{slug}/sandboxes/{args.id}/").json()
    print(f"Sandbox {sandbox['name']}: destroying (run #{sandbox.get('destroy_run')})", file=sys.stderr)
    return _sandbox_done(client, slug, sandbox, sandbox.get("destroy_run"), args)


# The parser ---------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="hangar",
        description="Hangar's command line: validate, build and upload artifacts, and deploy them. "
        "Configuration: HANGAR_URL and HANGAR_TOKEN, or the file `hangar login` writes.",
        epilog="Exit codes: 0 success, 1 failure, 2 bad usage, 3 a run waits for a person. See docs/cli.md.",
    )
    top.add_argument("-V", "--version", action="version", version=f"hangar {__version__}")
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, handler, help_text):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    sub = command("init", cmd_init, "Write the starter repository of a project.")
    sub.add_argument(
        "directory", nargs="?", metavar="DIR", help="where (default: a new folder named after the project)"
    )
    sub.add_argument("--project", required=True, help="the project's slug, e.g. sc-123-example")
    sub.add_argument("--team", help="the team's slug (default: read from Hangar)")
    sub.add_argument("--force", action="store_true", help="overwrite files that exist")

    sub = command("validate", cmd_validate, "Check a project repository: every problem as file:line:col: message.")
    sub.add_argument("dir", nargs="?", default=".", metavar="DIR")
    sub.add_argument("--target", default="local")

    sub = command("build", cmd_build, "Build a reproducible artifact zip (default: DIR/dist/<project>-<version>.zip).")
    sub.add_argument("dir", nargs="?", default=".", metavar="DIR")
    sub.add_argument("--version", required=True, help="semantic version, e.g. 0.1.87")
    sub.add_argument("--output", metavar="ZIP")
    sub.add_argument("--project", help="expected project slug (guards against building the wrong repository)")
    sub.add_argument("--target", default="local")
    sub.add_argument(
        "--build-time", help="ISO 8601 build time (default: SOURCE_DATE_EPOCH, the last commit's time, or now)"
    )
    sub.add_argument("--builder", help="who builds (default: git user.name, else your user name)")
    sub.add_argument("--source-revision", help="source revision (default: git HEAD, -dirty when changed)")

    sub = command("diff", cmd_diff, "Compare two artifacts: the DSL and schemas, then a summary of the Terraform.")
    sub.add_argument("zip_a", metavar="ZIP_A")
    sub.add_argument("zip_b", metavar="ZIP_B")
    sub.add_argument("--terraform", action="store_true", help="show the generated Terraform's changes too")

    sub = command("upload", cmd_upload, "Upload an artifact zip to its project.")
    sub.add_argument("zip", metavar="ZIP")
    sub.add_argument("--project", help="default: the project named in the zip")

    for name, text in (
        ("plan", "Plan a version in an environment (never applied)."),
        ("deploy", "Deploy a version: plan, then apply (at once, or after a person confirms)."),
        ("destroy", "Destroy what a version deployed (always planned first)."),
    ):
        sub = command(name, cmd_run, text)
        sub.add_argument("--env", required=True, choices=ENVIRONMENTS)
        sub.add_argument("--version", required=True)
        sub.add_argument("--project", help="default: hangar.yaml in DIR")
        sub.add_argument("--dir", default=".", help="the project repository (for --project's default)")
        sub.add_argument("--target", default="local")
        sub.add_argument(
            "--wait", action="store_true", help="follow the log; exit 0 succeeded, 1 failed, 3 waits for a person"
        )
        sub.add_argument(
            "--confirm-destroy",
            action="store_true",
            help="apply at once even when the plan destroys or replaces resources (where the environment applies automatically)",
        )

    sub = command("runs", cmd_runs, "List runs, newest first (default: of the project in the current folder).")
    sub.add_argument("--project")
    sub.add_argument("--all", action="store_true", help="every project you may see")
    sub.add_argument("--env", choices=ENVIRONMENTS)
    sub.add_argument("--status")
    sub.add_argument("--limit", type=int, default=20)

    sub = command("logs", cmd_logs, "Print a run's log.")
    sub.add_argument("run", type=int, metavar="RUN")
    sub.add_argument("--follow", "-f", action="store_true", help="keep printing until the run ends")

    sub = command("cancel", cmd_cancel, "Cancel a run (a waiting plan is discarded).")
    sub.add_argument("run", type=int, metavar="RUN")

    sub = command("login", cmd_login, "Check a token and keep it, with Hangar's URL, in the config file.")
    sub.add_argument("--url")
    sub.add_argument("--token-stdin", action="store_true", help="read the token from standard input")

    sandbox = command("sandbox", None, "Short-lived environments of a project: create, list, show, extend, delete.")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)

    def sandbox_command(name, handler, help_text):
        sub = sandbox_commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        sub.add_argument("--project", help="default: hangar.yaml in --dir")
        sub.add_argument("--dir", default=".", help="the project repository (for --project's default)")
        return sub

    sub = sandbox_command("create", cmd_sandbox_create, "Create a sandbox from a version and start its apply.")
    sub.add_argument("--version", required=True)
    sub.add_argument("--base", choices=ENVIRONMENTS, help="whose definition it deploys (default: dev)")
    sub.add_argument("--ttl", type=int, metavar="HOURS", help="its lifetime (default: Hangar's SANDBOX_DEFAULT_TTL)")
    sub.add_argument("--wait", action="store_true", help="follow the apply; exit 0 ready, 1 failed")
    sub.add_argument("--json", action="store_true", help="print the sandbox as JSON (the log goes to stderr)")
    sub = sandbox_command("list", cmd_sandbox_list, "List the project's live sandboxes.")
    sub.add_argument("--all", action="store_true", help="destroyed ones too")
    sub = sandbox_command("show", cmd_sandbox_show, "Show a sandbox: status, expiry, outputs.")
    sub.add_argument("id", type=int, metavar="ID")
    sub.add_argument("--json", action="store_true")
    sub = sandbox_command("extend", cmd_sandbox_extend, "Push a sandbox's expiry later.")
    sub.add_argument("id", type=int, metavar="ID")
    sub.add_argument("--hours", type=int, required=True)
    sub = sandbox_command("delete", cmd_sandbox_delete, "Destroy a sandbox.")
    sub.add_argument("id", type=int, metavar="ID")
    sub.add_argument("--wait", action="store_true", help="follow the destroy; exit 0 destroyed, 1 failed")
    sub.add_argument("--json", action="store_true")

    command("logout", cmd_logout, "Remove the config file.")
    sub = command("config", cmd_config, "Show where Hangar and the token come from.")
    sub.add_argument("--check", action="store_true", help="also ask Hangar who the token is")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except local.UsageError as error:
        print(f"hangar: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ApiError as error:
        status = f" ({error.status})" if error.status else ""
        print(f"hangar: {error.message}{status}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("hangar: interrupted (the run goes on in Hangar; `hangar cancel RUN` stops it)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
