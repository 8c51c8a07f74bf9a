"""The `hangar` command line as users get it: installed with one `pip install` of this repository
into a fresh virtualenv (once per test session), and run as a subprocess outside any checkout,
without Django settings, against a live Hangar (uvicorn, a Celery worker, real Terraform)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deployments.conftest import media, start_worker, upload, web, worker_env  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
# What a clone holds that the install never reads: left out of the copy pip builds from.
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "var", "static", "staticfiles", "tests", "bench", "build", "dist",
    "*.egg-info", "__pycache__", ".ruff_cache", ".pytest_cache",
)  # fmt: skip
INSTALL_TIMEOUT = 600


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a machine with no Hangar: no Django settings, no database, no checkout on the path."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO", "DATABASE", "PYTEST", "HANGAR_", "CELERY", "PYTHON", "VIRTUAL_ENV"))
        and key not in ("SECRET_KEY", "SOURCE_DATE_EPOCH")
    }
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def hangar_venv(tmp_path_factory) -> Path:
    """A fresh virtualenv with only `pip install <this repository>` in it."""
    base = tmp_path_factory.mktemp("hangar-cli")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED, symlinks=True)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120, env=clean_env())
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(source)],
        capture_output=True, text=True, timeout=INSTALL_TIMEOUT, env=clean_env(), cwd=base,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    return venv


@pytest.fixture
def hangar(hangar_venv, tmp_path):
    """Run the installed `hangar` in a folder outside the checkout: (exit code, stdout, stderr)."""
    config = tmp_path / "hangar-config.json"

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300, input=None):
        result = subprocess.run(
            [str(hangar_venv / "bin" / "hangar"), *args],
            capture_output=True, text=True, timeout=timeout, cwd=cwd or tmp_path, input=input,
            env=clean_env(HANGAR_CONFIG=str(config), **(env or {})),
        )  # fmt: skip
        return result.returncode, result.stdout, result.stderr

    return run
