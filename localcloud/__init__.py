"""The local cloud: GCP-like resources that really exist on this machine.

A control-plane database (SQLite) plus real files under one root directory,
managed by a Terraform provider written in Python (see ``localcloud.provider``)
and inspected with ``python -m localcloud``. Importable without Django.
"""

PROVIDER_SOURCE = "hangar.local/hangar/localcloud"
PROVIDER_VERSION = "0.1.0"
