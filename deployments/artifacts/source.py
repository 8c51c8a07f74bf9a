"""What a build records about its source, read from git: the revision, whether the folder is clean,
the last commit's time, and who builds. Shared by `manage.py build_artifact` and `hangar build`, so
both build the same bytes from the same checkout. Needs no Django."""

from __future__ import annotations

import getpass
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class SourceFacts:
    revision: str | None  # git HEAD, "-dirty" appended when the folder has changes; None outside git
    built_at: datetime | None  # None lets the builder use SOURCE_DATE_EPOCH or now
    builder: str


def git(source: Path, *args: str) -> str:
    """A git command's output in `source`, or "" when git is missing or fails."""
    try:
        result = subprocess.run(
            ["git", "-C", str(source), *args], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def parse_build_time(text: str) -> datetime:
    """An ISO 8601 time (a trailing Z is UTC; no zone is UTC); ValueError with a readable message."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--build-time '{text}' is not an ISO 8601 time such as 2025-09-01T16:25:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def source_facts(
    source: Path, *, build_time: str | None = None, builder: str | None = None, source_revision: str | None = None
) -> SourceFacts:
    """The facts a build records, explicit values first. The build time is --build-time, else
    SOURCE_DATE_EPOCH (left to the builder), else the last commit's time when the folder is clean in
    git (CI rebuilding a commit gets identical bytes), else now (left to the builder). The builder is
    `builder`, else git's user.name, else the operating system's user."""
    revision = source_revision or git(source, "rev-parse", "HEAD") or None
    dirty = bool(git(source, "status", "--porcelain", "--", ".")) if revision else False
    if revision and dirty and not source_revision:
        revision += "-dirty"
    clean = bool(revision) and not dirty
    if build_time:
        built_at = parse_build_time(build_time)
    elif os.environ.get("SOURCE_DATE_EPOCH") or not clean:
        built_at = None
    else:
        stamp = git(source, "log", "-1", "--format=%ct")
        built_at = datetime.fromtimestamp(int(stamp), tz=UTC) if stamp.isdigit() else None
    return SourceFacts(revision=revision, built_at=built_at, builder=builder or default_builder(source))


def default_builder(source: Path) -> str:
    """Who builds: git's user.name for this folder, else the operating system's user."""
    return git(source, "config", "user.name") or os_user()
