# Fixtures shared with the deploy tests (storage, uploads) and the CLI tests.
from tests.deployments.conftest import media, upload  # noqa: F401
