"""python manage.py build_artifact PATH --version X [--project sc-123-example] [--output FILE]"""

from __future__ import annotations

import argparse
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from deployments.artifacts.build import DEFAULT_MODULES_DIR, build_artifact, write_artifact
from deployments.artifacts.source import source_facts
from deployments.dsl.errors import DslError
from deployments.dsl.targets import TARGETS


class Command(BaseCommand):
    help = (
        "Validate and compile a project repository into an artifact zip. Prints the path written; on errors prints "
        "every problem as file:line:col: message, writes nothing and exits non-zero. The build time comes from "
        "--build-time, else SOURCE_DATE_EPOCH, else the time of the repository's last commit when the folder is "
        "clean in git, else now."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # `--version` is the artifact's version here, not Django's: ours replaces Django's option.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the project repository (with hangar.yaml and infrastructure/)")
        parser.add_argument("--version", required=True, help="semantic version of the artifact, e.g. 0.1.87")
        parser.add_argument("--project", help="expected project slug, e.g. sc-123-example (guards against mix-ups)")
        parser.add_argument("--output", type=Path, help="zip to write (default: dist/<project>-<version>.zip)")
        parser.add_argument("--target", default="local", choices=sorted(TARGETS))
        parser.add_argument("--build-time", help="ISO 8601 time to record as the build time")
        parser.add_argument("--builder", help="who builds (default: git user.name, else the user running the command)")
        parser.add_argument("--source-revision", help="source revision (default: git HEAD of PATH, if any)")
        parser.add_argument("--modules-dir", type=Path, default=DEFAULT_MODULES_DIR, help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        source = options["path"]
        if not source.is_dir():
            raise CommandError(f"{source}: not a folder; give the project repository's folder")
        try:
            facts = source_facts(
                source,
                build_time=options["build_time"],
                builder=options["builder"],
                source_revision=options["source_revision"],
            )
            built = build_artifact(
                source_dir=source,
                version=options["version"],
                project_slug=options["project"],
                target=options["target"],
                built_at=facts.built_at,
                builder=facts.builder,
                source_revision=facts.revision,
                modules_dir=options["modules_dir"],
            )
        except DslError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(exc.problems)} problem(s); nothing was written") from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        output = options["output"] or Path("dist") / built.filename
        self.stdout.write(str(write_artifact(content=built.content, path=output)))
