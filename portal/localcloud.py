"""Hangar's own client of the local cloud, with the operator token (LOCALCLOUD_OPERATOR_TOKEN_FILE).

Shared by the runs (which mint each run's scoped token) and the shared Airflow's pages (which
read what exists); neither needs to know the other."""

from django.conf import settings

from localcloud import client


def operator_client() -> client.Client:
    return client.operator_client(settings.LOCALCLOUD_URL, settings.LOCALCLOUD_OPERATOR_TOKEN_FILE)
