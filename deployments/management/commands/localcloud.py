"""`manage.py localcloud setup|serve|COMMAND …`: the local cloud service and its CLI with Hangar's settings.

`setup` (run by `make setup`) creates the operator token file (0600) if it is missing, so the
local cloud's CLI works right after setup; `serve` (the Procfile's `cloud` process) serves
LOCALCLOUD_ROOT on LOCALCLOUD_URL's host and port with that token file. The service itself is
`python -m localcloud serve`; this only feeds it the settings, so Hangar and the service agree.
Any other command (`list`, `show`, `create`, `delete`, `set-label`, …) is the local cloud's CLI,
given LOCALCLOUD_URL and the operator token file, so it works in a checkout right after setup.
"""

import argparse
import sys
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from localcloud import cli, server, tokens


class Command(BaseCommand):
    help = "Create the local cloud's operator token (setup) or serve the local cloud (serve) per the settings."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", help="setup, serve, or a command of `python -m localcloud` (list, show, …)")
        parser.add_argument("arguments", nargs=argparse.REMAINDER, help="the command's own arguments")

    def handle(self, *args, action: str, arguments: list[str], **options) -> None:
        token_file = settings.LOCALCLOUD_OPERATOR_TOKEN_FILE
        if action not in ("setup", "serve"):
            argv = ["--url", settings.LOCALCLOUD_URL, "--token-file", str(token_file), action, *arguments]
            code = cli.main(argv)
            if code:
                sys.exit(code)
            return
        if action == "setup":
            existed = token_file.exists()
            tokens.ensure_operator_token(token_file)
            state = "already there" if existed else "created"
            self.stdout.write(
                f"localcloud: operator token {token_file} {state}; the service: {settings.LOCALCLOUD_URL}"
            )
            return
        address = urlsplit(settings.LOCALCLOUD_URL)
        if address.scheme != "http" or not address.hostname:
            raise CommandError(f"LOCALCLOUD_URL {settings.LOCALCLOUD_URL!r} is not an http://host:port address")
        server.serve(settings.LOCALCLOUD_ROOT, address.hostname, address.port or 80, token_file)
