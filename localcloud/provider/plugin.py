"""The provider itself, and the entry point Terraform launches.

It is a client of the local cloud service (``python -m localcloud serve``): the address and the
token come from the environment (LOCALCLOUD_URL, LOCALCLOUD_TOKEN), never from the configuration,
so an artifact's Terraform cannot point itself at another cloud or another identity."""

import os
import sys
import threading
import time

from tf import runner
from tf.iface import DataSource, Provider, Resource
from tf.schema import Schema
from tf.utils import Diagnostics

from localcloud import PROVIDER_SOURCE
from localcloud.client import Client
from localcloud.provider.bigquery_resources import Dataset, Table
from localcloud.provider.composer_resources import ComposerEnvironment
from localcloud.provider.iam_resources import IamBinding, IamMember, ServiceAccount
from localcloud.provider.storage_resources import Bucket


class LocalCloudProvider(Provider):
    def __init__(self) -> None:
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client()  # LOCALCLOUD_URL, LOCALCLOUD_TOKEN
        return self._client

    def get_model_prefix(self) -> str:
        return "localcloud_"

    def full_name(self) -> str:
        return PROVIDER_SOURCE

    def get_provider_schema(self, diags: Diagnostics) -> Schema:
        return Schema(attributes=[])

    def validate_config(self, diags: Diagnostics, config: dict) -> None:
        pass

    def configure_provider(self, diags: Diagnostics, config: dict) -> None:
        self._client = None

    def get_data_sources(self) -> list[type[DataSource]]:
        return []

    def get_resources(self) -> list[type[Resource]]:
        return [Dataset, Table, ServiceAccount, IamBinding, IamMember, Bucket, ComposerEnvironment]


def _exit_with_terraform() -> None:
    """Terraform normally stops its plugins; if it is killed, nothing does. Exit when the
    parent process is gone (we are re-parented), so no orphan is left behind."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class _StopLetsCallsFinish(runner._ShutdownInterceptor):
    """Terraform sends StopProvider when it is interrupted (a cancel, a worker draining): in-flight
    calls should wind up and return, and Terraform then records what they did in its state. The
    framework's interceptor instead shut the gRPC server down at once, aborting those calls: a resource
    being created was made in the cloud but never reached the state, and the next apply failed with
    "already exists". Here StopProvider is only acknowledged (Terraform makes no new calls after it);
    the plugin ends on go-plugin's Shutdown, or when Terraform exits."""

    def intercept_service(self, continuation, handler_call_details):
        result = continuation(handler_call_details)
        if handler_call_details.method == "/plugin.GRPCController/Shutdown":
            self.stopped = True
            if self.server:
                self.server.stop(grace=5)
        return result


def main(argv: list[str] | None = None) -> None:
    _exit_with_terraform()
    runner._ShutdownInterceptor = _StopLetsCallsFinish
    runner.run_provider(LocalCloudProvider(), argv or sys.argv)


if __name__ == "__main__":
    main()
