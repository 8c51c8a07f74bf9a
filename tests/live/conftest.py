from tests.deployments.conftest import *  # noqa: F403  (worker, web server and artifact fixtures)
