import pytest

from localcloud.store import Store


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "cloud")
