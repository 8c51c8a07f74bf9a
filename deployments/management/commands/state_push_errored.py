"""Store an errored.tfstate Hangar kept with a run as the deployment's next state version."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from deployments.state import services as state_services
from deployments.state.models import ErroredState
from deployments.state.services import StateError


class Command(BaseCommand):
    help = (
        "Push a kept errored state (Terraform's errored.tfstate) back as the next state version, through the "
        "same rules as Terraform's writes (same lineage, higher serial, no run or lock on the state). Audited."
    )

    def add_arguments(self, parser):
        parser.add_argument("errored_id", type=int, help="the errored state's id (run log, STATE page)")
        parser.add_argument("--user", help="the admin to record in the audit trail (default: system)")

    def handle(self, *args, errored_id: int, user: str | None = None, **options):
        errored = ErroredState.objects.filter(pk=errored_id).first()
        if errored is None:
            raise CommandError(f"There is no errored state #{errored_id}.")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"There is no user {user!r}.")
        try:
            version = state_services.errored_state_push(errored=errored, user=actor)
        except StateError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"errored state #{errored.pk} stored as state serial {version.serial} of {errored.deployment}"
        )
