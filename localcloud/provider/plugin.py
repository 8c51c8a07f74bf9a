"""The provider itself, and the entry point Terraform launches."""

import os
import sys
import threading
import time
from pathlib import Path

from tf import runner
from tf.iface import DataSource, Provider, Resource
from tf.schema import Attribute, Schema
from tf.types import String
from tf.utils import Diagnostics

from localcloud import PROVIDER_SOURCE
from localcloud.provider.bigquery_resources import Dataset, Table
from localcloud.provider.composer_resources import ComposerEnvironment
from localcloud.provider.iam_resources import IamBinding, IamMember, ServiceAccount
from localcloud.provider.storage_resources import Bucket
from localcloud.store import Store, default_root


class LocalCloudProvider(Provider):
    def __init__(self) -> None:
        self.root: Path | None = None
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.root or default_root())
        return self._store

    def get_model_prefix(self) -> str:
        return "localcloud_"

    def full_name(self) -> str:
        return PROVIDER_SOURCE

    def get_provider_schema(self, diags: Diagnostics) -> Schema:
        return Schema(
            attributes=[
                Attribute(
                    "root",
                    String(),
                    optional=True,
                    description="Local cloud directory (default: $LOCALCLOUD_ROOT)",
                )
            ]
        )

    def validate_config(self, diags: Diagnostics, config: dict) -> None:
        root = config.get("root")
        if isinstance(root, str) and root and not os.path.isabs(os.path.expanduser(root)):
            diags.add_error("Invalid root", f"root: {root!r} is relative; give an absolute directory", path=["root"])

    def configure_provider(self, diags: Diagnostics, config: dict) -> None:
        root = config.get("root")
        if isinstance(root, str) and root:
            self.root = Path(os.path.expanduser(root))
        self._store = None

    def get_data_sources(self) -> list[type[DataSource]]:
        return []

    def get_resources(self) -> list[type[Resource]]:
        return [Dataset, Table, ServiceAccount, IamBinding, IamMember, Bucket, ComposerEnvironment]


def _exit_with_terraform() -> None:
    """Terraform normally stops its plugins; if it is killed, nothing does. Exit when the
    parent process is gone (we are re-parented), so no orphan keeps the store open."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    _exit_with_terraform()
    runner.run_provider(LocalCloudProvider(), argv or sys.argv)


if __name__ == "__main__":
    main()
