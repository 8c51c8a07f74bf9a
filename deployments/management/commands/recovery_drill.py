"""Recreate every deployed environment in a throw-away local cloud and compare it with the live one."""

from django.core.management.base import BaseCommand, CommandError

from deployments.drills import services
from onboarding.models import Project


class Command(BaseCommand):
    help = (
        "Recovery drill: recreate each environment's deployed version with Terraform in a fresh, separate local "
        "cloud (never the live one, never the live state), compare it with the live cloud and print the report. "
        "Runs here, synchronously; exits 1 when an environment failed or differs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", metavar="SLUG", help="only this project (default: every project)")

    def handle(self, *args, project: str | None = None, **options):
        scope = None
        if project:
            scope = Project.objects.filter(slug=project).first()
            if scope is None:
                raise CommandError(f"There is no project {project!r}.")
        drill = services.drill_create(user=None, project=scope)
        services.drill_execute(drill_id=drill.pk, progress=lambda message: self.stderr.write(message))
        drill.refresh_from_db()
        self.stdout.write(services.drill_report(drill))
        if not services.drill_passed(drill):
            raise CommandError(f"Recovery drill #{drill.pk} did not pass: see the report above.", returncode=1)
