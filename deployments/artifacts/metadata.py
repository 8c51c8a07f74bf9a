"""metadata.yaml: what an artifact is, who built it from what, and the checksum of every file."""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import yaml

METADATA_FILE = "metadata.yaml"
METADATA_FORMAT = 1
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_digest(checksums: Mapping[str, str]) -> str:
    """One digest for a set of files (path → sha256), independent of the order they were read in."""
    return sha256_hex("".join(f"{path}\0{checksums[path]}\n" for path in sorted(checksums)).encode())


# Artifact.version's max_length: a longer version cannot be stored.
VERSION_MAX_LENGTH = 64


def version_problem(version: str) -> str | None:
    """What is wrong with a version string, or None. Checked at build and at upload."""
    shown = version if len(version) <= VERSION_MAX_LENGTH else f"{version[:VERSION_MAX_LENGTH]}…"
    if len(version) > VERSION_MAX_LENGTH:
        return f"version '{shown}' has {len(version)} characters; at most {VERSION_MAX_LENGTH} characters are allowed"
    if not SEMVER.fullmatch(version):
        return (
            f"version '{shown}' is not a semantic version: use MAJOR.MINOR.PATCH such as 0.1.87 "
            "(optionally with a pre-release such as 1.0.0-rc.1)"
        )
    return None


def check_version(version: str) -> str:
    problem = version_problem(version)
    if problem:
        raise ValueError(problem)
    return version


def key_line(text: bytes | None, key: str) -> int:
    """The 1-based line of a top-level `key:` in a YAML text (1 when it is not found)."""
    prefix = f"{key}:".encode()
    for number, line in enumerate((text or b"").splitlines(), 1):
        if line.startswith(prefix):
            return number
    return 1


def hangar_version() -> str:
    """The checkout's version (pyproject.toml), else the installed package's (the `hangar` command line)."""
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        return str(tomllib.loads(pyproject.read_text())["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    try:
        return importlib.metadata.version("hangar")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_metadata(
    *,
    project: str,
    version: str,
    target: str,
    environments: Mapping[str, str],
    built_at: datetime,
    provider: Mapping[str, str] | None = None,
    builder: str,
    source_revision: str | None,
    modules: Mapping[str, Mapping[str, object]],
    files: Mapping[str, str],
) -> bytes:
    document = {
        "format": METADATA_FORMAT,
        "project": project,
        "version": version,
        "target": target,
        **({"provider": dict(provider)} if provider else {}),
        "environments": dict(sorted(environments.items())),
        "built_at": format_time(built_at),
        "builder": builder,
        "source_revision": source_revision,
        "hangar_version": hangar_version(),
        "modules": {name: dict(modules[name]) for name in sorted(modules)},
        "content_sha256": tree_digest(files),
        "files": dict(sorted(files.items())),
    }
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False, allow_unicode=True).encode()
