"""`python -m localcloud`: look at the local cloud and change it outside Terraform.

    list --project P [--type T]        every resource of a project, as it really is (JSON)
    show --project P TYPE NAME         one resource
    delete --project P TYPE NAME       remove it (contents and all), as someone outside Terraform might
    set-label --project P TYPE NAME key=value [key= ...]   change labels (key= removes)
    drop-column --project P DATASET.TABLE COLUMN
    sql --project P DATASET "SELECT ..."   run SQL on a dataset's tables, print rows as JSON
    projects                           the projects that have resources

The root is --root, else $LOCALCLOUD_ROOT, else ~/.local/share/hangar-localcloud.
"""

import argparse
import json
import sqlite3
import sys

from localcloud import bigquery, inventory
from localcloud.errors import InvalidValue, LocalCloudError
from localcloud.store import Store


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description="Inspect and change the local cloud.")
    parser.add_argument("--root", help="local cloud directory (default: $LOCALCLOUD_ROOT)")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="resources of a project as JSON")
    listing.add_argument("--project", required=True)
    listing.add_argument("--type", dest="kind", choices=inventory.KINDS)
    for name, help_text in (("show", "one resource as JSON"), ("delete", "delete a resource outside Terraform")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--project", required=True)
        sub.add_argument("kind", metavar="TYPE", choices=inventory.KINDS)
        sub.add_argument("name", metavar="NAME")
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
    return parser


def _label_changes(pairs: list[str]) -> dict[str, str | None]:
    changes: dict[str, str | None] = {}
    for pair in pairs:
        if "=" not in pair:
            raise InvalidValue("KEY=VALUE", pair, "write key=value to set a label, key= to remove it")
        key, value = pair.split("=", 1)
        changes[key] = value if value else None
    return changes


def run(argv: list[str]) -> object:
    args = _parser().parse_args(argv)
    store = Store(args.root)
    if args.command == "projects":
        return sorted({r.project for r in store.records()})
    if args.command == "list":
        return inventory.list_project(store, args.project, args.kind)
    if args.command == "show":
        return inventory.describe(store, inventory.find(store, args.project, args.kind, args.name))
    if args.command == "delete":
        record = inventory.find(store, args.project, args.kind, args.name)
        inventory.delete(store, record)
        return {"deleted": {"type": record.kind, "name": record.name, "project": record.project}}
    if args.command == "set-label":
        record = inventory.find(store, args.project, args.kind, args.name)
        return {"labels": inventory.set_labels(store, record, _label_changes(args.pairs))}
    if args.command == "drop-column":
        dataset_id, _, table_id = args.table.partition(".")
        bigquery.drop_column(store, args.project, dataset_id, table_id, args.column)
        return bigquery.get_table(store, args.project, dataset_id, table_id)
    if args.command == "sql":
        with bigquery.dataset_db(store, args.project, args.dataset, write=True) as db:
            cursor = db.execute(args.statement)
            names = [d[0] for d in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    raise AssertionError(args.command)


def main(argv: list[str] | None = None) -> int:
    try:
        result = run(sys.argv[1:] if argv is None else argv)
    except LocalCloudError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    except sqlite3.Error as error:
        print(f"error: sql: {error}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")
    return 0
