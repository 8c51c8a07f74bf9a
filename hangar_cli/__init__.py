"""`hangar`, Hangar's command line: validate, build and upload artifacts, start runs and follow
their logs from a terminal or a CI job. It speaks Hangar's REST API only, and shares the DSL
compiler and the artifact builder with the portal (`deployments.dsl`, `deployments.artifacts`).
It needs no database and no Django. See docs/cli.md."""

import importlib.metadata

try:
    __version__ = importlib.metadata.version("hangar")
except importlib.metadata.PackageNotFoundError:  # run from a checkout that was not installed
    __version__ = "0.0.0+checkout"
