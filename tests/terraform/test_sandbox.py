"""The sandbox on its own (below the upload checks): what a Terraform process of a run can see and touch.

Each attack here would be refused at upload by the policy too; these tests make sure
that the sandbox holds even when an artifact gets past it."""

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from deployments.runs import sandbox, toolchain

SECRET = "s3cret-worker-only-value"


@pytest.fixture
def worker_files(tmp_path: Path) -> dict[str, Path]:
    """A worker's var/ in miniature: secrets, a database, another run's workspace, and this run's."""
    var = tmp_path / "var"
    files = {
        "secret_key": var / "secret-key",
        "database": var / "hangar.sqlite3",
        "admin_password": var / "initial-admin-password",
        "localcloud": var / "localcloud" / "operator-token",
        "other_run": var / "runs" / "run-7-abcd" / "artifact" / "infrastructure" / "dev" / "main.tf",
    }
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SECRET)
    own = var / "runs" / "run-8-efgh"
    (own / "artifact" / "infrastructure" / "dev").mkdir(parents=True)
    files["workspace"] = own
    return files


def _sandboxed(args: list[str], workspace: Path, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    readonly = [Path(args[0]), *sandbox.python_runtime()]
    command = sandbox.command(args, workspace=workspace, workdir=workspace, readonly=readonly)
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env or {"PATH": "/usr/bin:/bin"})


PROBE = textwrap.dedent(
    """
    import json, os, sys
    seen = {}
    for name, path in json.loads(sys.argv[1]).items():
        try:
            with open(path) as f:
                seen[name] = f.read()
        except OSError as error:
            seen[name] = type(error).__name__
    seen["proc"] = sorted(p for p in os.listdir("/proc") if p.isdigit())
    environs = []
    for pid in seen["proc"]:
        try:
            environs.append(open(f"/proc/{pid}/environ", "rb").read().decode(errors="replace"))
        except OSError:
            pass
    seen["environ"] = "".join(environs)
    for name, path in (("write_workspace", "written.txt"), ("write_tmp", "/tmp/x"), ("write_runtime", sys.prefix + "/x")):
        try:
            with open(path, "w") as f:
                f.write("x")
            seen[name] = "ok"
        except OSError as error:
            seen[name] = type(error).__name__
    import socket
    seen["hostname"] = socket.gethostname()
    print(json.dumps(seen))
    """
)


def test_a_process_in_the_sandbox_sees_only_its_workspace(worker_files) -> None:
    import json

    workspace = worker_files["workspace"]
    targets = {name: str(path) for name, path in worker_files.items() if name != "workspace"}
    # The same files reached relatively, as `${path.cwd}/../..` would.
    targets["relative_secret_key"] = os.path.relpath(worker_files["secret_key"], workspace)
    targets["repository_secret_key"] = str(Path(__file__).resolve().parents[2] / "var" / "secret-key")
    targets["etc_shadow"] = "/etc/shadow"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(workspace)}
    result = _sandboxed([str(toolchain.venv_bin() / "python3"), "-c", PROBE, json.dumps(targets)], workspace, env=env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)

    for name in targets:
        assert seen[name] in ("FileNotFoundError", "PermissionError"), f"{name} was readable: {seen[name]!r}"
    assert SECRET not in result.stdout
    # Its own PID namespace: the worker and its neighbours are not there, nor their environments.
    assert len(seen["proc"]) <= 3, seen["proc"]
    assert "SECRET_KEY" not in seen["environ"] and "DATABASE_URL" not in seen["environ"]
    assert seen["hostname"] == sandbox.HOSTNAME
    # It may write its workspace and a private /tmp, nothing of the toolchain.
    assert seen["write_workspace"] == "ok" and (workspace / "written.txt").exists()
    assert seen["write_tmp"] == "ok"
    assert seen["write_runtime"] in ("OSError", "PermissionError")  # a read-only mount: EROFS


def test_terraform_file_reads_outside_the_workspace_fail_in_the_sandbox(worker_files, terraform_toolchain) -> None:
    workspace = worker_files["workspace"]
    workdir = workspace / "artifact" / "infrastructure" / "dev"
    secret = os.path.relpath(worker_files["secret_key"], workdir)
    (workdir / "main.tf").write_text(
        textwrap.dedent(
            f"""
            output "secret_key" {{ value = file("${{path.cwd}}/{secret}") }}
            output "environ"    {{ value = file("/proc/1/environ") }}
            """
        )
    )
    env = toolchain.terraform_env(workspace, cli_config=terraform_toolchain.cli_config)
    outputs = []
    for args in (["init", "-no-color"], ["plan", "-no-color", "-input=false"]):
        command = sandbox.terraform_command(
            [terraform_toolchain.binary, *args],
            workspace=workspace,
            workdir=workdir,
            mirror=terraform_toolchain.mirror,
            cli_config=terraform_toolchain.cli_config,
        )
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, cwd=workdir)
        outputs.append(result.stdout + result.stderr)
    assert "no file exists" in outputs[1].replace("\n", " ")
    assert SECRET not in "".join(outputs)


def test_the_sandbox_is_refused_with_what_to_install(settings) -> None:
    settings.RUN_SANDBOX_BWRAP = "/nonexistent/bwrap"
    with pytest.raises(sandbox.SandboxUnavailable) as refused:
        sandbox.check()
    assert "Install bubblewrap" in str(refused.value) and "RUN_SANDBOX=off" in str(refused.value)


def test_off_is_explicit(settings) -> None:
    settings.RUN_SANDBOX = "off"
    settings.RUN_SANDBOX_BWRAP = "/nonexistent/bwrap"
    sandbox.check()  # nothing to check: the run says it is not isolated instead
    assert not sandbox.enabled()
