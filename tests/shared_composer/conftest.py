"""Fixtures for the shared composer: the deploy fixtures (worker, local cloud, media) and its settings."""

import pytest

from tests.deployments.conftest import *  # noqa: F403  (start_worker, worker_env, media, ...)


@pytest.fixture
def shared_settings(settings, localcloud, media):
    """Hangar's web side and the worker agree on the (emptied) local cloud and the promotion policy."""
    settings.SHARED_COMPOSER_PROMOTION = "approval"
    return settings


@pytest.fixture
def policy(shared_settings, worker_env):
    """Set the promotion policy for this process and for workers started afterwards."""

    def set_policy(value: str) -> None:
        shared_settings.SHARED_COMPOSER_PROMOTION = value
        worker_env["SHARED_COMPOSER_PROMOTION"] = value

    set_policy("approval")
    return set_policy


from tests.terraform.conftest import terraform_toolchain, workspace  # noqa: E402, F401  (real Terraform)
