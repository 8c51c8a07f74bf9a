"""One local cloud server for the whole test session, and a clean cloud for each test that asks.

The server is the real one (`python -m localcloud serve`, a child process on a free port with a
temporary root). Its address and operator token file go into Django's settings and the
environment, so Hangar, Celery workers and `python -m localcloud` started by tests all use it.
Tests that used to get an empty per-test root take the `localcloud` fixture: everything in the
shared cloud is deleted through the API before the test, which isolates them the same way.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from localcloud.launcher import ServerProcess, wipe

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def localcloud_server(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("localcloud")
    server = ServerProcess(base / "cloud", log=base / "server.log")
    values = {"LOCALCLOUD_URL": server.url, "LOCALCLOUD_OPERATOR_TOKEN_FILE": str(server.token_file)}
    saved = {key: os.environ.get(key) for key in (*values, "LOCALCLOUD_ROOT", "LOCALCLOUD_TOKEN")}
    os.environ.update(values)
    for key in ("LOCALCLOUD_ROOT", "LOCALCLOUD_TOKEN"):  # nothing reaches the store but the server
        os.environ.pop(key, None)
    from django.conf import settings

    previous = (settings.LOCALCLOUD_URL, settings.LOCALCLOUD_OPERATOR_TOKEN_FILE, settings.LOCALCLOUD_ROOT)
    settings.LOCALCLOUD_URL, settings.LOCALCLOUD_OPERATOR_TOKEN_FILE = server.url, server.token_file
    settings.LOCALCLOUD_ROOT = server.root
    yield server
    settings.LOCALCLOUD_URL, settings.LOCALCLOUD_OPERATOR_TOKEN_FILE, settings.LOCALCLOUD_ROOT = previous
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    server.stop()


@pytest.fixture
def localcloud(localcloud_server: ServerProcess) -> ServerProcess:
    """The session's local cloud, emptied for this test."""
    wipe(localcloud_server.client())
    return localcloud_server


def localcloud_cli(*args: str, env: dict[str, str] | None = None, check: bool = True) -> object:
    """`python -m localcloud ARGS` against the session's server (operator token); decoded JSON output."""
    out = subprocess.run(
        [sys.executable, "-m", "localcloud", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=check
    )
    return json.loads(out.stdout) if out.returncode == 0 else out
