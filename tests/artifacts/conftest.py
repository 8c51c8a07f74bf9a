import shutil
from pathlib import Path

import pytest

from tests.deployments.conftest import media, upload, write_project  # noqa: F401 - fixtures shared with deploy tests
from tests.dsl.contract_modules import write_contract_modules

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "sc-123-example"


@pytest.fixture
def contract_modules(tmp_path: Path) -> Path:
    return write_contract_modules(tmp_path / "terraform_modules")


@pytest.fixture
def example_project(tmp_path: Path) -> Path:
    """A private copy of the sample project, free to change."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "sc-123-example"))
