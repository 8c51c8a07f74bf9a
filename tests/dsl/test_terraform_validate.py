"""Compiled output is valid Terraform for the real modules and the offline provider mirror."""

import io
import subprocess
import zipfile

import pytest

from deployments.artifacts import build_artifact
from deployments.runs import toolchain
from tests.dsl.conftest import EXAMPLE

pytestmark = pytest.mark.terraform


@pytest.fixture(scope="module")
def terraform_ready():
    toolchain.ensure_toolchain()  # idempotent: the mirror and CLI config `manage.py setup_terraform` builds
    return toolchain.terraform_binary()


def terraform(binary: str, workspace, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [binary, *args, "-no-color"],
        cwd=workspace,
        env=toolchain.terraform_env(workspace),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_sample_project_artifact_validates_in_every_environment(terraform_ready, tmp_path):
    built = build_artifact(source_dir=EXAMPLE, version="0.1.0")  # the real terraform_modules/local
    zipfile.ZipFile(io.BytesIO(built.content)).extractall(tmp_path)
    for env in ("dev", "test", "prod"):
        workspace = tmp_path / "infrastructure" / env
        init = terraform(terraform_ready, workspace, "init", "-backend=false", "-input=false")
        assert init.returncode == 0, init.stdout + init.stderr
        validate = terraform(terraform_ready, workspace, "validate")
        assert validate.returncode == 0, f"{env}: {validate.stdout}{validate.stderr}"
    check = subprocess.run(
        [terraform_ready, "fmt", "-check", "-recursive", str(tmp_path / "infrastructure")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
