"""Real Terraform against the local cloud provider, offline, in temporary directories."""

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from deployments.runs import toolchain
from localcloud.launcher import ServerProcess

REPO = Path(__file__).resolve().parents[2]
MODULES = REPO / "terraform_modules" / "local"
PROVIDERS_TF = """
terraform {
  required_providers {
    localcloud = {
      source  = "hangar.local/hangar/localcloud"
      version = "0.1.0"
    }
  }
}

provider "localcloud" {}
"""


@dataclass(frozen=True)
class Toolchain:
    binary: str
    mirror: Path
    cli_config: Path


@pytest.fixture(scope="session")
def terraform_toolchain(tmp_path_factory: pytest.TempPathFactory) -> Toolchain:
    """One mirror and CLI config for the whole session, built the way setup_terraform builds them."""
    base = tmp_path_factory.mktemp("terraform")
    mirror, cli_config = base / "mirror", base / "terraform.rc"
    toolchain.build_mirror(mirror)
    toolchain.write_cli_config(cli_config, mirror)
    binary = str(settings.TERRAFORM_BINARY)
    if not Path(binary).is_file():
        pytest.fail(f"TERRAFORM_BINARY {binary} is missing: run `make setup`")
    return Toolchain(binary, mirror, cli_config)


class Workspace:
    """An artifact-shaped directory: modules/local/<name>/ beside infrastructure/<env>/.

    Terraform reaches the session's local cloud with `token` (default: the operator's)."""

    def __init__(self, root: Path, tools: Toolchain, cloud: ServerProcess, token: str | None = None) -> None:
        self.root = root
        self.dir = root / "infrastructure" / "dev"
        self.dir.mkdir(parents=True)
        shutil.copytree(MODULES, root / "modules" / "local")
        self.cloud = cloud
        self.tools = tools
        self.env = toolchain.terraform_env(
            root, cli_config=tools.cli_config, localcloud_url=cloud.url, localcloud_token=token or cloud.operator_token
        )

    def write(self, main_tf: str, **files: str) -> None:
        (self.dir / "providers.tf").write_text(PROVIDERS_TF)
        (self.dir / "main.tf").write_text(main_tf)
        for name, text in files.items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [self.tools.binary, *args, "-no-color"],
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode in ok, (
            f"terraform {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
        return result

    def init(self) -> subprocess.CompletedProcess:
        return self.run("init")

    def apply(self) -> subprocess.CompletedProcess:
        return self.run("apply", "-auto-approve")

    def destroy(self) -> subprocess.CompletedProcess:
        return self.run("destroy", "-auto-approve")

    def plan(self, *args: str) -> tuple[int, str]:
        """(exit code, output) with -detailed-exitcode: 0 no changes, 2 changes."""
        result = self.run("plan", "-detailed-exitcode", *args, ok=(0, 2))
        return result.returncode, result.stdout

    def fails(self, *args: str) -> str:
        result = self.run(*args, ok=(1,))
        return result.stdout + result.stderr


@pytest.fixture
def workspace(tmp_path: Path, terraform_toolchain: Toolchain, localcloud: ServerProcess) -> Workspace:
    return Workspace(tmp_path / "artifact", terraform_toolchain, localcloud)


@pytest.fixture
def make_workspace(
    tmp_path: Path, terraform_toolchain: Toolchain, localcloud: ServerProcess
) -> Callable[..., Workspace]:
    def make(name: str, token: str | None = None) -> Workspace:
        return Workspace(tmp_path / name, terraform_toolchain, localcloud, token)

    return make
