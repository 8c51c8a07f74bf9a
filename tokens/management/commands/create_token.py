"""python manage.py create_token USERNAME [--name NAME] [--days N]: a personal API token, printed once."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from tokens.models import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS
from tokens.services import create_personal_token


class Command(BaseCommand):
    help = "Create a personal API token for a user and print its key (shown once; Hangar keeps only a digest)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="created by an admin", help="what the token is for")
        parser.add_argument(
            "--days", type=int, default=DEFAULT_EXPIRY_DAYS, help=f"lifetime in days (1-{MAX_EXPIRY_DAYS})"
        )

    def handle(self, *args, username, name, days, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            token, key = create_personal_token(user=user, name=name, days=days, by=None)
        except ValidationError as error:
            raise CommandError(" ".join(m for ms in error.message_dict.values() for m in ms)) from None
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        self.stderr.write(f"Token {token.name!r} for {username}, expires {token.expiry:%Y-%m-%d %H:%M %Z}:")
        self.stdout.write(key)
