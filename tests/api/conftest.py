# The deploy fixtures (storage, uploads) for an artifact to fuzz against.
from tests.deployments.conftest import media, upload, write_project  # noqa: F401
from tests.dsl.conftest import contract_modules, example_project  # noqa: F401
