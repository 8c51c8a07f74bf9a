"""The local cloud: GCP-like resources that really exist on this machine.

A control-plane database (SQLite) plus real files under one root directory, owned by one
service (``python -m localcloud serve``, see ``localcloud.server``) that authorises every call
with a token scoped to cloud projects. Its clients — the Terraform provider
(``localcloud.provider``), the CLI (``python -m localcloud``) and Hangar — all go through
``localcloud.client``. Importable without Django.
"""

PROVIDER_SOURCE = "hangar.local/hangar/localcloud"
PROVIDER_VERSION = "0.1.0"
