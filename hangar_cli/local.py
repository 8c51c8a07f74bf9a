"""The commands that need no server: init, validate, build, diff. They call the portal's own
builder (`deployments.artifacts`) and DSL compiler (`deployments.dsl`)."""

from __future__ import annotations

import difflib
import io
import os
import sys
import zipfile
from pathlib import Path, PurePosixPath

import yaml

from deployments.artifacts.build import build_artifact, write_artifact
from deployments.artifacts.metadata import METADATA_FILE
from deployments.artifacts.project_file import PROJECT_FILE, ProjectInfo, parse_project_file
from deployments.artifacts.source import source_facts
from deployments.artifacts.starter import starter_files
from deployments.dsl.errors import DslError, DslProblem

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# Any valid version: validation builds in memory and writes nothing.
VALIDATION_VERSION = "0.0.0"


class UsageError(Exception):
    """Bad usage: exit 2 with this message."""


def _shown(directory: Path, problem: DslProblem) -> str:
    """A problem as file:line:col: message, the file as seen from the current folder."""
    if directory.resolve() == Path.cwd().resolve():
        return str(problem)
    prefix = os.path.relpath(directory) if not directory.is_absolute() else str(directory)
    return f"{prefix.rstrip('/')}/{problem}"


def _folder(directory: str) -> Path:
    path = Path(directory)
    if not path.is_dir():
        raise UsageError(f"{directory}: not a folder; give the project repository's folder")
    return path


def read_project(directory: str | Path) -> ProjectInfo:
    path = Path(directory) / PROJECT_FILE
    try:
        return parse_project_file(text=path.read_bytes(), filename=str(path))
    except OSError:
        raise UsageError(f"{path}: not found; run in the project's repository or give --project") from None
    except DslError as error:
        raise UsageError("\n".join(str(problem) for problem in error.problems)) from None


def validate(directory: str, *, target: str = "local", out=sys.stdout, err=sys.stderr) -> int:
    folder = _folder(directory)
    try:
        built = build_artifact(source_dir=folder, version=VALIDATION_VERSION, target=target, builder="validate")
    except DslError as error:
        for problem in error.problems:
            print(_shown(folder, problem), file=out)
        print(f"{len(error.problems)} problem(s)", file=err)
        return EXIT_FAILED
    except ValueError as error:
        raise UsageError(str(error)) from None
    environments = yaml.safe_load(built.files[METADATA_FILE])["environments"]
    shown = ", ".join(f"{env} ({kind})" for env, kind in environments.items())
    print(f"{built.project.slug}: valid: {shown}", file=out)
    return EXIT_OK


def build(
    directory: str,
    *,
    version: str,
    output: str | None = None,
    project: str | None = None,
    target: str = "local",
    build_time: str | None = None,
    builder: str | None = None,
    source_revision: str | None = None,
    out=sys.stdout,
    err=sys.stderr,
) -> int:
    folder = _folder(directory)
    try:
        facts = source_facts(folder, build_time=build_time, builder=builder, source_revision=source_revision)
        built = build_artifact(
            source_dir=folder,
            version=version,
            project_slug=project,
            target=target,
            built_at=facts.built_at,
            builder=facts.builder,
            source_revision=facts.revision,
        )
    except DslError as error:
        for problem in error.problems:
            print(_shown(folder, problem), file=out)
        print(f"{len(error.problems)} problem(s); nothing was written", file=err)
        return EXIT_FAILED
    except ValueError as error:
        raise UsageError(str(error)) from None
    path = Path(output) if output else folder / "dist" / built.filename
    print(write_artifact(content=built.content, path=path), file=out)
    return EXIT_OK


def init(directory: str | None, *, project: ProjectInfo, force: bool = False, out=sys.stdout) -> int:
    folder = Path(directory or project.slug)
    files = starter_files(project=project)
    existing = [path for path in files if (folder / path).exists()]
    if existing and not force:
        raise UsageError(f"{folder}: already holds {', '.join(sorted(existing)[:5])}; use --force to overwrite")
    for path, data in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    print(f"{folder}: starter repository of {project.slug} ({len(files)} files)", file=out)
    print(f"next: hangar validate {folder} && hangar build {folder} --version 0.1.0", file=out)
    return EXIT_OK


# diff ---------------------------------------------------------------------------------------------


def _read_zip(path: str) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    except (OSError, zipfile.BadZipFile) as error:
        raise UsageError(f"{path}: not a readable zip ({error})") from None


def _version(files: dict[str, bytes], fallback: str) -> str:
    try:
        return str(yaml.safe_load(files[METADATA_FILE])["version"])
    except (KeyError, TypeError, yaml.YAMLError):
        return fallback


def _is_generated(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return parts[0] == "modules" or (parts[0] == "infrastructure" and path.endswith(".tf"))


def _order(path: str) -> tuple:
    envs = {"dev": 0, "test": 1, "prod": 2}
    parts = PurePosixPath(path).parts
    if path.endswith("/main.yaml") and len(parts) == 3:
        return (0, envs.get(parts[1], 9), path)
    if path.startswith("infrastructure/bq_schemas/"):
        return (1, 0, path)
    return (2, 0, path)


def _text(data: bytes) -> list[str] | None:
    try:
        return data.decode().splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def diff(zip_a: str, zip_b: str, *, terraform: bool = False, out=sys.stdout) -> int:
    """Exit 0 when the artifacts hold the same files (metadata.yaml aside), 1 when they differ."""
    a, b = _read_zip(zip_a), _read_zip(zip_b)
    va, vb = _version(a, zip_a), _version(b, zip_b)
    paths = sorted((set(a) | set(b)) - {METADATA_FILE}, key=_order)
    changed = [path for path in paths if a.get(path) != b.get(path)]
    sources = [path for path in changed if not _is_generated(path)]
    generated = [path for path in changed if _is_generated(path)]
    buffer = io.StringIO()

    def show(path: str) -> tuple[int, int]:
        before, after = _text(a.get(path, b"")), _text(b.get(path, b""))
        if before is None or after is None:
            buffer.write(f"Binary file {path} differs\n")
            return 0, 0
        added = removed = 0
        for line in difflib.unified_diff(
            before, after, f"{va}/{path}" if path in a else "/dev/null", f"{vb}/{path}" if path in b else "/dev/null"
        ):
            if not line.endswith("\n"):
                line += "\n\\ No newline at end of file\n"
            buffer.write(line)
            added += line.startswith("+") and not line.startswith("+++")
            removed += line.startswith("-") and not line.startswith("---")
        return added, removed

    for path in sources:
        show(path)
    totals = [0, 0]
    mark = buffer.tell()
    for path in generated:
        added, removed = show(path)
        totals[0] += added
        totals[1] += removed
    if not terraform:
        buffer.seek(mark)
        buffer.truncate()
    out.write(buffer.getvalue())
    if generated:
        print(
            f"Generated Terraform: {len(generated)} file(s) changed (+{totals[0]} -{totals[1]})"
            + ("" if terraform else "; --terraform shows them"),
            file=out,
        )
    if not changed:
        print(f"{va} and {vb} hold the same files", file=out)
    return EXIT_FAILED if changed else EXIT_OK
