"""`python -m localcloud`: run the local cloud, look at it and change it outside Terraform.

    serve [--host H] [--port N]          the HTTP API (owns the store under --root)
    operator-token                       create the operator token file (0600) if missing; print its path
    list --project P [--type T]          every resource of a project, as it really is (JSON)
    show --project P TYPE NAME           one resource
    create --project P TYPE NAME [--attr key=value ...]   make one outside Terraform
    delete --project P TYPE NAME         remove it (contents and all), as someone outside Terraform might
    set-label --project P TYPE NAME key=value [key= ...]   change labels (key= removes)
    drop-column --project P DATASET.TABLE COLUMN
    sql --project P DATASET "SELECT ..."   run SQL on a dataset's tables, print rows as JSON
    projects                             the projects that have resources
    mint-token --principal NAME --project P [--project ...] [--ttl S]   a scoped token (JSON, shown once)
    revoke-token ID

Everything but serve and operator-token is a call of the API at --url (else $LOCALCLOUD_URL,
else http://127.0.0.1:8390) with the operator token from --token-file (else
$LOCALCLOUD_OPERATOR_TOKEN_FILE, else <root>/operator-token; the root is --root, else
$LOCALCLOUD_ROOT, else ~/.local/share/hangar-localcloud).
"""

import argparse
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from localcloud import inventory, server, tokens
from localcloud.client import DEFAULT_URL, URL_ENV, Client
from localcloud.create import CREATABLE, create
from localcloud.errors import InvalidValue, LocalCloudError
from localcloud.store import default_root


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m localcloud", description="Run, inspect and change the local cloud."
    )
    parser.add_argument("--root", help="the local cloud's directory (default: $LOCALCLOUD_ROOT)")
    parser.add_argument("--url", help=f"the local cloud's address (default: ${URL_ENV}, else {DEFAULT_URL})")
    parser.add_argument("--token-file", help=f"the operator token file (default: ${tokens.TOKEN_FILE_ENV})")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the local cloud's API")
    serve.add_argument("--host", help=f"address to listen on (default: the host of ${URL_ENV}, else 127.0.0.1)")
    serve.add_argument("--port", type=int, help=f"port (default: the port of ${URL_ENV}, else 8390)")
    commands.add_parser("operator-token", help="create the operator token file if missing; print its path")
    listing = commands.add_parser("list", help="resources of a project as JSON")
    listing.add_argument("--project", required=True)
    listing.add_argument("--type", dest="kind", choices=inventory.KINDS)
    for name, help_text in (("show", "one resource as JSON"), ("delete", "delete a resource outside Terraform")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--project", required=True)
        sub.add_argument("kind", metavar="TYPE", choices=inventory.KINDS)
        sub.add_argument("name", metavar="NAME")
    make = commands.add_parser("create", help="create a resource outside Terraform")
    make.add_argument("--project", required=True)
    make.add_argument("kind", metavar="TYPE", choices=CREATABLE)
    make.add_argument("name", metavar="NAME", help="its name (DATASET.TABLE for a table, the role for a grant)")
    make.add_argument("--attr", action="append", default=[], metavar="KEY=VALUE",
                      help="an attribute; map.key=value for maps, a,b for lists, @file reads a file")  # fmt: skip
    labels = commands.add_parser("set-label", help="set (key=value) or remove (key=) labels")
    labels.add_argument("--project", required=True)
    labels.add_argument("kind", metavar="TYPE", choices=inventory.LABELLED)
    labels.add_argument("name", metavar="NAME")
    labels.add_argument("pairs", metavar="KEY=VALUE", nargs="+")
    drop = commands.add_parser("drop-column", help="drop a table column outside Terraform")
    drop.add_argument("--project", required=True)
    drop.add_argument("table", metavar="DATASET.TABLE")
    drop.add_argument("column")
    sql = commands.add_parser("sql", help="run SQL on a dataset")
    sql.add_argument("--project", required=True)
    sql.add_argument("dataset")
    sql.add_argument("statement")
    commands.add_parser("projects", help="projects that have resources")
    mint = commands.add_parser("mint-token", help="mint a token scoped to projects")
    mint.add_argument("--principal", required=True, help="who holds it, e.g. 'run 12'")
    mint.add_argument("--project", dest="projects", action="append", required=True)
    mint.add_argument("--ttl", type=int, default=3600, help="seconds it is valid (default 3600)")
    revoke = commands.add_parser("revoke-token", help="revoke a scoped token by its id")
    revoke.add_argument("id")
    return parser


def _label_changes(pairs: list[str]) -> dict[str, str | None]:
    changes: dict[str, str | None] = {}
    for pair in pairs:
        if "=" not in pair:
            raise InvalidValue("KEY=VALUE", pair, "write key=value to set a label, key= to remove it")
        key, value = pair.split("=", 1)
        changes[key] = value if value else None
    return changes


def _root(args: argparse.Namespace) -> Path:
    return Path(args.root) if args.root else default_root()


def _token_file(args: argparse.Namespace) -> Path:
    return Path(args.token_file) if args.token_file else tokens.default_token_file(_root(args))


def _serve(args: argparse.Namespace) -> int:
    address = urlsplit(args.url or os.environ.get(URL_ENV) or DEFAULT_URL)
    host = args.host or address.hostname or server.DEFAULT_HOST
    port = args.port if args.port is not None else (address.port or server.DEFAULT_PORT)
    return server.serve(_root(args), host, port, _token_file(args))


def run(argv: list[str]) -> object:
    args = _parser().parse_args(argv)
    if args.command == "operator-token":
        path = _token_file(args)
        tokens.ensure_operator_token(path)
        return {"token_file": str(path)}
    # The CLI waits briefly for a server that is starting; a run's provider waits longer.
    api = Client(args.url, tokens.read_operator_token(_token_file(args)), retry_seconds=2.0)
    if args.command == "projects":
        return api.projects()
    if args.command == "list":
        return api.list_resources(args.project, args.kind)
    if args.command == "show":
        return api.show(args.project, args.kind, args.name)
    if args.command == "create":
        return create(api, args.project, args.kind, args.name, args.attr)
    if args.command == "delete":
        return api.delete(args.project, args.kind, args.name)
    if args.command == "set-label":
        return api.set_labels(args.project, args.kind, args.name, _label_changes(args.pairs))
    if args.command == "drop-column":
        dataset_id, _, table_id = args.table.partition(".")
        return api.drop_column(args.project, dataset_id, table_id, args.column)
    if args.command == "sql":
        return api.query(args.project, args.dataset, args.statement)
    if args.command == "mint-token":
        return api.mint_token(args.principal, args.projects, args.ttl)
    if args.command == "revoke-token":
        api.revoke_token(args.id)
        return {"revoked": args.id}
    raise AssertionError(args.command)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = _parser().parse_args(argv)
        if args.command == "serve":
            return _serve(args)
        result = run(argv)
    except LocalCloudError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")
    return 0
