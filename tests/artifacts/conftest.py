# Fixtures shared with the DSL tests (sample project, contract modules) and the deploy tests (storage, uploads).
from tests.deployments.conftest import media, upload, write_project  # noqa: F401
from tests.dsl.conftest import contract_modules, example_project  # noqa: F401
