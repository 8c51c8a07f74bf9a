"""Real plans: DSL compiled by deployments.dsl, planned by the real Terraform CLI against the local cloud."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from deployments.dsl import compile_environment, parse_environment
from deployments.runs import toolchain
from localcloud.launcher import ServerProcess
from tests.terraform.conftest import MODULES, Toolchain, terraform_toolchain  # noqa: F401  (session fixture)

PROJECT = "sc-123-example-dev"
TEAM = "data-team"
MAIN_YAML = "infrastructure/dev/main.yaml"


class DslWorkspace:
    """An artifact-shaped directory built from DSL text: infrastructure/dev/ (main.yaml and the compiled
    Terraform), infrastructure/bq_schemas/, modules/local/. State stays local (no backend.tf)."""

    def __init__(self, root: Path, tools: Toolchain, cloud: ServerProcess) -> None:
        self.root = root
        self.infrastructure = root / "infrastructure"
        self.dir = self.infrastructure / "dev"
        self.dir.mkdir(parents=True)
        shutil.copytree(MODULES, root / "modules" / "local")
        self.cloud = cloud
        self.tools = tools
        self.env = toolchain.terraform_env(
            root, cli_config=tools.cli_config, localcloud_url=cloud.url, localcloud_token=cloud.operator_token
        )
        self.sources: dict[str, str] = {}
        self.initialised = False

    def write(self, main_yaml: str, schemas: dict[str, object], extra_tf: dict[str, str] | None = None) -> None:
        """Write main.yaml and schema files (name under bq_schemas/ → fields), and compile them."""
        for name, fields in schemas.items():
            path = self.infrastructure / "bq_schemas" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(fields, indent=2)
            path.write_text(text)
            self.sources[f"infrastructure/bq_schemas/{name}"] = text
        (self.dir / "main.yaml").write_text(main_yaml)
        self.sources[MAIN_YAML] = main_yaml
        spec = parse_environment(text=main_yaml, filename=MAIN_YAML, infrastructure_dir=self.infrastructure)
        files = compile_environment(spec=spec, project_id=PROJECT, team=TEAM)
        files.pop("backend.tf")
        for path in self.dir.glob("*.tf"):
            path.unlink()
        for name, text in {**files, **(extra_tf or {})}.items():
            (self.dir / name).write_text(text)

    def terraform(self, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [self.tools.binary, *args, "-no-color"] if args[0] != "show" else [self.tools.binary, *args],
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode in ok, f"terraform {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
        return result

    def apply(self) -> None:
        if not self.initialised:
            self.terraform("init")
            self.initialised = True
        self.terraform("apply", "-auto-approve", "-input=false")

    def plan_json(self) -> dict:
        """`terraform plan -out plan.bin`, then `terraform show -json plan.bin`."""
        if not self.initialised:
            self.terraform("init")
            self.initialised = True
        self.terraform("plan", "-input=false", "-out", "plan.bin")
        return json.loads(self.terraform("show", "-json", "plan.bin").stdout)


@pytest.fixture
def dsl_workspace(tmp_path: Path, terraform_toolchain: Toolchain, localcloud: ServerProcess) -> DslWorkspace:  # noqa: F811
    return DslWorkspace(tmp_path / "artifact", terraform_toolchain, localcloud)
