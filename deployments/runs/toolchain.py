"""The Terraform toolchain Hangar's runner uses: the CLI, the offline provider mirror, the CLI
configuration that installs only from it, and the minimal environment of a Terraform process.

Plain functions; paths default to the settings (TERRAFORM_BINARY, TERRAFORM_DIR,
TERRAFORM_MIRROR_DIR, LOCALCLOUD_URL) and can be given explicitly (tests, other sites).
"""

import functools
import os
import re
import shutil
import subprocess
import sysconfig
import zipfile
from collections.abc import Mapping
from pathlib import Path

from localcloud import packaging

CLI_CONFIG_NAME = "terraform.rc"
# Enough for Terraform and the provider's `#!/usr/bin/env python3`; nothing of Hangar's own.
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def _settings():  # imported late: the toolchain is also used from tests and scripts
    from django.conf import settings

    return settings


def terraform_binary() -> str:
    return str(_settings().TERRAFORM_BINARY)


def terraform_dir() -> Path:
    return Path(_settings().TERRAFORM_DIR)


def mirror_dir() -> Path:
    return Path(_settings().TERRAFORM_MIRROR_DIR)


def cli_config_path() -> Path:
    return terraform_dir() / CLI_CONFIG_NAME


def localcloud_service_url() -> str:
    return str(_settings().LOCALCLOUD_URL)


def venv_bin() -> Path:
    """The scripts folder of the running interpreter's environment (holds python3), symlinks resolved:
    the sandbox shows the environment at its real path."""
    return Path(sysconfig.get_path("scripts")).resolve()


def render_cli_config(mirror: Path) -> str:
    # Only the filesystem mirror, and no `direct` block: a provider missing from the
    # mirror fails `terraform init` instead of being fetched from the network.
    return (
        "# Written by Hangar: providers come only from the offline mirror.\n"
        "disable_checkpoint = true\n"
        "\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path = {_hcl_string(str(mirror))}\n"
        "  }\n"
        "}\n"
    )


def _hcl_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${") + '"'


def write_cli_config(path: Path | None = None, mirror: Path | None = None) -> bool:
    """Write the CLI configuration; returns False when it already had this content."""
    path = Path(path) if path else cli_config_path()
    text = render_cli_config(Path(mirror) if mirror else mirror_dir())
    if path.is_file() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def build_mirror(mirror: Path | None = None, include_null: bool = True) -> list[str]:
    """Build the provider mirror (local cloud provider, and the null provider when installed)."""
    return packaging.build_mirror(Path(mirror) if mirror else mirror_dir(), include_null=include_null)


PACKED_PROVIDER = re.compile(r"^terraform-provider-([a-z0-9-]+)_([0-9][0-9A-Za-z.+-]*)_([a-z0-9]+_[a-z0-9]+)\.zip$")
MIRROR_INDEX = re.compile(r"^(index|[0-9][0-9A-Za-z.+-]*)\.json$")


def add_providers(source: Path, mirror: Path | None = None) -> list[str]:
    """Copy providers an operator fetched with `terraform providers mirror SOURCE` (on a machine with
    internet access) into the offline mirror. Both layouts are accepted: packed
    `<host>/<namespace>/<type>/terraform-provider-<type>_<version>_<os>_<arch>.zip` (with its JSON index
    files) and unpacked `<host>/<namespace>/<type>/<version>/<os>_<arch>/…`. Returns what was added;
    raises ValueError for anything else, before copying."""
    source, mirror = Path(source), Path(mirror) if mirror else mirror_dir()
    if not source.is_dir():
        raise ValueError(f"{source} is not a folder; give the folder `terraform providers mirror` wrote")
    plan: list[tuple[Path, Path]] = []
    problems: list[str] = []
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_symlink():
            problems.append(f"{relative}: links are not accepted")
            continue
        if not path.is_file():
            continue
        parts = relative.parts
        if len(parts) == 4 and (PACKED_PROVIDER.fullmatch(parts[3]) or MIRROR_INDEX.fullmatch(parts[3])):
            match = PACKED_PROVIDER.fullmatch(parts[3])
            if match and match.group(1) != parts[2]:
                problems.append(f"{relative}: the archive names provider {match.group(1)!r}, not {parts[2]!r}")
                continue
            if match and not zipfile.is_zipfile(path):
                problems.append(f"{relative}: not a zip archive")
                continue
            plan.append((path, mirror / relative))
        elif len(parts) >= 6 and re.fullmatch(r"[a-z0-9]+_[a-z0-9]+", parts[4]):
            plan.append((path, mirror / relative))
        else:
            problems.append(
                f"{relative}: not a provider of a `terraform providers mirror` folder "
                "(<host>/<namespace>/<type>/terraform-provider-<type>_<version>_<os>_<arch>.zip)"
            )
    if problems:
        raise ValueError("; ".join(problems))
    if not plan:
        raise ValueError(f"{source} holds no provider; run `terraform providers mirror {source}` first")
    added = []
    for origin, destination in plan:
        if destination.is_file() and destination.read_bytes() == origin.read_bytes():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(f".{destination.name}.partial")
        shutil.copyfile(origin, partial)
        os.replace(partial, destination)
        if os.access(origin, os.X_OK):
            destination.chmod(0o755)
        added.append(f"added {destination.relative_to(mirror)}")
    return added


def ensure_toolchain() -> list[str]:
    """Mirror + CLI config under TERRAFORM_DIR; idempotent. Returns what changed."""
    changes = build_mirror()
    if write_cli_config():
        changes.append(f"wrote {cli_config_path()}")
    return changes


def terraform_env(
    workspace: Path,
    *,
    cli_config: Path | None = None,
    localcloud_url: str | None = None,
    localcloud_token: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The whole environment of a Terraform process run in `workspace` (nothing inherited).

    The local cloud provider reaches the service at LOCALCLOUD_URL with `localcloud_token`, a
    token scoped to the run's projects; the local cloud's files are none of its business."""
    home = Path(workspace) / ".home"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": f"{venv_bin()}{os.pathsep}{SYSTEM_PATH}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TF_CLI_CONFIG_FILE": str(cli_config or cli_config_path()),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
        "LOCALCLOUD_URL": localcloud_url or localcloud_service_url(),
        "LOCALCLOUD_LATENCY_MS": str(_settings().LOCALCLOUD_LATENCY_MS),
    }
    if localcloud_token:
        env["LOCALCLOUD_TOKEN"] = localcloud_token
    env.update(extra or {})
    env.pop("TF_PLUGIN_CACHE_DIR", None)  # providers come from the mirror, never from a shared cache
    return env


def terraform_version(binary: str | None = None) -> str:
    """The first line of `terraform version`, e.g. "Terraform v1.0.3".

    Asked once per binary file: starting Terraform costs a run 60-90 ms, and a replaced binary
    (another inode, size or modification time) is asked again."""
    program = binary or terraform_binary()
    resolved = shutil.which(program) or program
    stat = os.stat(resolved)
    return _terraform_version(os.path.realpath(resolved), stat.st_ino, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _terraform_version(path: str, inode: int, size: int, mtime_ns: int) -> str:
    out = subprocess.run(
        [path, "version"],
        capture_output=True,
        text=True,
        check=True,
        env={"CHECKPOINT_DISABLE": "1"},
    )
    return out.stdout.splitlines()[0].strip()
