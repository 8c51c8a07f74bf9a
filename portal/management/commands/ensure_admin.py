"""Create a first admin account when none exists, and say how to log in.

Django's `createsuperuser --noinput` with DJANGO_SUPERUSER_USERNAME / _PASSWORD /
_EMAIL keeps working; this command only fills the gap on a fresh machine."""

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the first admin account if there is no superuser yet."

    def handle(self, *args, **options):
        User = get_user_model()
        password_file = settings.VAR_DIR / "initial-admin-password"
        if User.objects.filter(is_superuser=True).exists():
            if password_file.exists():
                self.stdout.write(f"Log in as 'admin' with the password in {password_file}.")
            return
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(12)
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "")
        User.objects.create_superuser(username=username, email=email, password=password)
        if "DJANGO_SUPERUSER_PASSWORD" not in os.environ:
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(f"Created the first admin account: username {username!r}, password {password!r}")
            + (f" (kept in {password_file})." if "DJANGO_SUPERUSER_PASSWORD" not in os.environ else ".")
        )
