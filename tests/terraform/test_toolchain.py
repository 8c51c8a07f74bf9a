"""Offline installation from the mirror, and lock files that verify on another machine."""

import shutil
import subprocess
from io import StringIO

import pytest
from django.core.management import call_command

from deployments.runs import toolchain
from localcloud import packaging
from tests.terraform.test_modules import LOCALS

pytestmark = pytest.mark.terraform

SA = (
    LOCALS
    + """
module "service_account_compute" {
  source     = "../../modules/local/service_account"
  project_id = local.project_id
  account_id = "compute"
}
"""
)


def test_cli_config_has_only_the_mirror(terraform_toolchain) -> None:
    text = terraform_toolchain.cli_config.read_text()
    assert "filesystem_mirror" in text and "direct" not in text and "network_mirror" not in text


def test_provider_missing_from_mirror_fails_without_network(workspace) -> None:
    workspace.write(SA + 'resource "random_id" "x" {\n  byte_length = 2\n}\n')
    out = workspace.fails("init")
    assert "registry.terraform.io/hashicorp/random was not\nfound in any of the search locations" in out
    assert str(workspace.tools.mirror) in out


def test_lock_file_verifies_against_a_mirror_built_elsewhere(tmp_path, make_workspace, terraform_toolchain) -> None:
    first = make_workspace("first")
    first.write(SA)
    first.init()
    lock = (first.dir / ".terraform.lock.hcl").read_text()
    assert packaging.plugin_hash() in lock

    # "Another machine": a mirror built separately, in another directory, byte for byte the same.
    other_mirror, other_config = tmp_path / "elsewhere" / "mirror", tmp_path / "elsewhere" / "terraform.rc"
    toolchain.build_mirror(other_mirror, include_null=False)
    toolchain.write_cli_config(other_config, other_mirror)
    for archive in (other_mirror / "hangar.local").rglob("*.zip"):
        original = terraform_toolchain.mirror / archive.relative_to(other_mirror)
        assert archive.read_bytes() == original.read_bytes()

    second = make_workspace("second")
    second.env["TF_CLI_CONFIG_FILE"] = str(other_config)
    second.write(SA)
    (second.dir / ".terraform.lock.hcl").write_text(lock)
    second.init()
    assert (second.dir / ".terraform.lock.hcl").read_text() == lock


def test_plugin_has_no_machine_paths() -> None:
    plugin = packaging.build_plugin()
    assert plugin.startswith(b"#!/usr/bin/env python3\n")
    assert str(packaging.PACKAGE_DIR.parent).encode() not in plugin
    assert plugin == packaging.build_plugin()


def test_setup_command_is_idempotent(tmp_path, settings) -> None:
    settings.TERRAFORM_DIR = tmp_path / "tf"
    settings.TERRAFORM_MIRROR_DIR = tmp_path / "tf" / "mirror"
    first, second = StringIO(), StringIO()
    call_command("setup_terraform", stdout=first)
    call_command("setup_terraform", stdout=second)
    assert "wrote" in first.getvalue() and "updated" in first.getvalue()
    assert "wrote" not in second.getvalue() and "already up to date" in second.getvalue()
    assert (tmp_path / "tf" / "terraform.rc").is_file()


def test_terraform_env_is_minimal(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("TF_PLUGIN_CACHE_DIR", "/somewhere")
    env = toolchain.terraform_env(
        tmp_path, cli_config=tmp_path / "rc", localcloud_url="http://127.0.0.1:1", localcloud_token="lct_run"
    )
    assert "SECRET_KEY" not in env and "TF_PLUGIN_CACHE_DIR" not in env
    assert env["PATH"].split(":")[0] == str(toolchain.venv_bin())
    assert env["TF_IN_AUTOMATION"] == "1" and env["TF_INPUT"] == "0"
    assert env["HOME"].startswith(str(tmp_path))
    # The provider reaches the local cloud service with the run's token; its files are not Terraform's business.
    assert env["LOCALCLOUD_URL"] == "http://127.0.0.1:1" and env["LOCALCLOUD_TOKEN"] == "lct_run"
    assert not any(key.startswith("LOCALCLOUD_") and key not in ("LOCALCLOUD_URL", "LOCALCLOUD_TOKEN",
                   "LOCALCLOUD_LATENCY_MS") for key in env)  # fmt: skip
    version = subprocess.run([env["PATH"].split(":")[0] + "/python3", "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("Python 3.")


def test_terraform_version_is_asked_once_per_binary_file(tmp_path) -> None:
    binary = tmp_path / "terraform"
    shutil.copy2(toolchain.terraform_binary(), binary)
    first = toolchain.terraform_version(str(binary))
    assert first.startswith("Terraform v")
    cached = toolchain._terraform_version.cache_info().hits
    assert toolchain.terraform_version(str(binary)) == first
    assert toolchain._terraform_version.cache_info().hits == cached + 1

    # Replaced in place (an upgrade): asked again, not answered from the cache.
    replacement = tmp_path / "replacement"
    replacement.write_text("#!/bin/sh\necho 'Terraform v9.9.9'\n")
    replacement.chmod(0o755)
    replacement.replace(binary)
    assert toolchain.terraform_version(str(binary)) == "Terraform v9.9.9"
