"""Create the shared composer's platform team and project when missing, optionally deploy it."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from onboarding.shared_composer import services as shared_composer


class Command(BaseCommand):
    help = (
        "Create the Managed Shared Composer's platform team and infrastructure project if missing "
        "(SHARED_COMPOSER_* settings); --lead makes a user a lead of the platform team (the only way besides "
        "an existing platform lead; audited); --deploy builds "
        "the current definition as a new version and deploys it to dev."
    )

    def add_arguments(self, parser):
        parser.add_argument("--lead", metavar="USERNAME", help="make this user a lead of the platform team")
        parser.add_argument("--deploy", action="store_true", help="build and deploy the definition to dev")

    def handle(self, *args, lead=None, deploy=False, **options):
        user = None
        if lead:
            user = get_user_model().objects.filter(username=lead).first()
            if user is None:
                raise CommandError(f"No user named {lead!r}; create it first.")
        project = shared_composer.shared_platform_project(lead=user)
        self.stdout.write(f"Shared composer project: {project.slug} (team {project.team.slug})")
        if user is not None:
            self.stdout.write(f"{user.username} is a lead of the platform team {project.team.slug}")
        if deploy:
            run = shared_composer.shared_deploy_definition(user=user)
            self.stdout.write(f"Version {run.artifact.version} queued for dev: run #{run.pk}")
