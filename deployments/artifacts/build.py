"""Build an artifact (an immutable, versioned zip) from a project repository.

Layout of the zip (see docs/artifacts.md):

    hangar.yaml                                  the project (service control id, name, team)
    metadata.yaml                                version, build facts, module digests, sha256 of every file
    infrastructure/bq_schemas/...                schema files, shared by all environments
    infrastructure/<env>/main.yaml               the DSL source (DSL environments)
    infrastructure/<env>/*.tf                    rendered (or the user's own) Terraform, plus
                                                 backend.tf and providers.tf written by Hangar
    modules/<target>/<name>/...                  the organisation's modules the Terraform calls
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from deployments.artifacts.metadata import METADATA_FILE, check_version, render_metadata, sha256_hex, tree_digest
from deployments.artifacts.project_file import ENVIRONMENTS, PROJECT_FILE, ProjectInfo, parse_project_file
from deployments.artifacts.zip_writer import deterministic_zip
from deployments.dsl.compiler import compile_environment, environment_project_id, used_modules
from deployments.dsl.errors import DslError, DslProblem, did_you_mean, quoted_list
from deployments.dsl.targets import get_target
from deployments.dsl.terraform_guards import TEMPLATE_SUFFIX, unchecked_terraform_file
from deployments.dsl.terraform_policy import RESERVED_ENVIRONMENT_FILES, check_terraform_files
from deployments.dsl.validation import SCHEMA_DIR, parse_environment

DEFAULT_MODULES_DIR = Path(__file__).resolve().parents[2] / "terraform_modules"
INFRASTRUCTURE = "infrastructure"
DSL_FILE = "main.yaml"


@dataclass(frozen=True)
class BuiltArtifact:
    project: ProjectInfo
    version: str
    filename: str  # suggested file name: <project>-<version>.zip
    content: bytes
    files: dict[str, bytes]  # what the zip holds, metadata.yaml included


def build_time(*, explicit: datetime | None = None, environ: os._Environ | dict | None = None) -> datetime:
    """The build time recorded in metadata.yaml: explicit, else SOURCE_DATE_EPOCH, else now.

    Only metadata.yaml carries it (zip entries use a fixed date), so pinning it, as reproducible
    builds do with SOURCE_DATE_EPOCH, makes the same input give the same zip bytes.
    """
    if explicit is not None:
        return explicit if explicit.tzinfo else explicit.replace(tzinfo=UTC)
    epoch = (os.environ if environ is None else environ).get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        if not epoch.isdigit():
            raise ValueError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970; found '{epoch}'")
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(tz=UTC).replace(microsecond=0)


def build_artifact(
    *,
    source_dir: Path,
    version: str,
    project_slug: str | None = None,
    target: str = "local",
    built_at: datetime | None = None,
    builder: str = "unknown",
    source_revision: str | None = None,
    modules_dir: Path = DEFAULT_MODULES_DIR,
) -> BuiltArtifact:
    """Validate, compile and package a project folder; raise DslError listing every problem.

    `project_slug`, when given, must match hangar.yaml (a guard against building the wrong repository).
    """
    check_version(version)
    resolved_target = get_target(target)
    source_dir = Path(source_dir)
    problems: list[DslProblem] = []
    project = _read_project(source_dir, problems)
    if project and project_slug and project.slug != project_slug:
        problems.append(
            DslProblem(PROJECT_FILE, 1, 1, f"this repository is project '{project.slug}', not '{project_slug}'")
        )
    infrastructure_dir = source_dir / INFRASTRUCTURE
    files: dict[str, bytes] = {}
    kinds: dict[str, str] = {}
    modules_needed: set[str] = set()
    bundled = _available_modules(modules_dir / resolved_target.name)
    if not infrastructure_dir.is_dir():
        problems.append(
            DslProblem(f"{INFRASTRUCTURE}/", 1, 1, f"missing folder; expected {INFRASTRUCTURE}/<env>/main.yaml")
        )
    else:
        _check_infrastructure_entries(infrastructure_dir, problems)
        files.update(_schema_files(infrastructure_dir, problems))
        for env in ENVIRONMENTS:
            env_dir = infrastructure_dir / env
            if not env_dir.is_dir():
                continue
            result = _environment(
                env_dir=env_dir, env=env, project=project, target=target, bundled=bundled, problems=problems
            )
            if result is not None:
                kind, env_files, modules = result
                kinds[env] = kind
                files.update({f"{INFRASTRUCTURE}/{env}/{name}": data for name, data in env_files.items()})
                modules_needed |= modules
        if not kinds and not any(p.file.startswith(f"{INFRASTRUCTURE}/") for p in problems):
            problems.append(
                DslProblem(
                    f"{INFRASTRUCTURE}/",
                    1,
                    1,
                    f"no environment: add {INFRASTRUCTURE}/<env>/{DSL_FILE} "
                    f"for at least one of {quoted_list(ENVIRONMENTS)}",
                )
            )
    module_facts: dict[str, dict[str, object]] = {}
    for name in sorted(modules_needed):
        module_files = _module_files(modules_dir / resolved_target.name / name)
        prefix = f"modules/{resolved_target.name}/{name}/"
        for path in sorted(module_files):
            reason = unchecked_terraform_file(path)
            if reason:
                problems.append(DslProblem(prefix + path, 1, 1, reason))
        report = check_terraform_files(
            files={
                prefix + path: data for path, data in module_files.items() if path.endswith((".tf", TEMPLATE_SUFFIX))
            },
            role="module",
            target=target,
            bundled_modules=bundled,
        )
        problems.extend(report.problems)
        checksums = {path: sha256_hex(data) for path, data in module_files.items()}
        version_file = module_files.get("VERSION")
        module_facts[name] = {
            "sha256": tree_digest(checksums),
            "version": version_file.decode().strip() if version_file else None,
        }
        files.update({prefix + path: data for path, data in module_files.items()})
    if not problems and resolved_target.schema_checked:
        problems.extend(_schema_problems(files, resolved_target, modules_dir))
    if problems or project is None:
        raise DslError(problems)
    files[PROJECT_FILE] = project.render().encode()
    files[METADATA_FILE] = render_metadata(
        project=project.slug,
        version=version,
        target=resolved_target.name,
        provider={"source": resolved_target.provider_source, "version": resolved_target.provider_version},
        environments=kinds,
        built_at=build_time(explicit=built_at),
        builder=builder,
        source_revision=source_revision,
        modules=module_facts,
        files={path: sha256_hex(data) for path, data in files.items()},
    )
    return BuiltArtifact(
        project=project,
        version=version,
        filename=f"{project.slug}-{version}.zip",
        content=deterministic_zip(files),
        files=files,
    )


def write_artifact(*, content: bytes, path: Path) -> Path:
    """Write atomically: a reader never sees half a zip, and a failed write leaves nothing behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(content)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _read_project(source_dir: Path, problems: list[DslProblem]) -> ProjectInfo | None:
    path = source_dir / PROJECT_FILE
    if not path.is_file():
        problems.append(
            DslProblem(PROJECT_FILE, 1, 1, "missing project file; it names the project: service_control_id, name, team")
        )
        return None
    try:
        return parse_project_file(text=path.read_bytes(), filename=PROJECT_FILE)
    except DslError as exc:
        problems.extend(exc.problems)
        return None


def _check_infrastructure_entries(infrastructure_dir: Path, problems: list[DslProblem]) -> None:
    allowed = (*ENVIRONMENTS, SCHEMA_DIR)
    for entry in sorted(infrastructure_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        shown = f"{INFRASTRUCTURE}/{entry.name}"
        if entry.is_symlink():
            problems.append(DslProblem(shown, 1, 1, "links are not allowed in infrastructure/"))
        elif entry.is_dir() and entry.name not in allowed:
            hint = did_you_mean(entry.name, allowed)
            problems.append(DslProblem(shown + "/", 1, 1, f"unknown folder;{hint} allowed: {quoted_list(allowed)}"))


def _regular_files(root: Path, shown_root: str, problems: list[DslProblem]) -> dict[str, bytes]:
    """Files under a folder by relative POSIX path; links are refused, hidden entries skipped."""
    found: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(root).parts):
            continue
        if path.is_symlink():
            problems.append(DslProblem(f"{shown_root}{relative}", 1, 1, "links are not allowed in an artifact"))
        elif path.is_file():
            found[relative] = path.read_bytes()
    return found


def _schema_files(infrastructure_dir: Path, problems: list[DslProblem]) -> dict[str, bytes]:
    schemas = infrastructure_dir / SCHEMA_DIR
    if not schemas.is_dir():
        return {}
    prefix = f"{INFRASTRUCTURE}/{SCHEMA_DIR}/"
    return {prefix + path: data for path, data in _regular_files(schemas, prefix, problems).items()}


def _environment(
    *, env_dir: Path, env: str, project: ProjectInfo | None, target: str, bundled: set[str], problems: list[DslProblem]
) -> tuple[str, dict[str, bytes], set[str]] | None:
    """(kind, files, modules) of one environment folder; problems are appended."""
    shown = f"{INFRASTRUCTURE}/{env}/"
    entries = _regular_files(env_dir, shown, problems)
    terraform = {name: data for name, data in entries.items() if name.endswith(".tf") and "/" not in name}
    others = sorted(set(entries) - set(terraform) - {DSL_FILE})
    for name in [name for name in others if unchecked_terraform_file(name)]:
        problems.append(DslProblem(shown + name, 1, 1, unchecked_terraform_file(name)))
        others.remove(name)
    for name in others:
        hint = " did you mean 'main.yaml'?" if name in ("main.yml", "Main.yaml") else ""
        problems.append(
            DslProblem(
                shown + name,
                1,
                1,
                f"unexpected file;{hint} an environment folder holds either {DSL_FILE} or Terraform *.tf files"
                f" (schema files belong in {INFRASTRUCTURE}/{SCHEMA_DIR}/)",
            )
        )
    if DSL_FILE in entries and terraform:
        problems.append(
            DslProblem(
                shown + DSL_FILE,
                1,
                1,
                f"both {DSL_FILE} and Terraform files ({', '.join(sorted(terraform))}) are here; "
                "an environment is described by one or the other",
            )
        )
        return None
    if DSL_FILE in entries:
        try:
            spec = parse_environment(
                text=entries[DSL_FILE],
                filename=shown + DSL_FILE,
                infrastructure_dir=env_dir.parent,
                display_dir=f"{INFRASTRUCTURE}/",
            )
        except DslError as exc:
            problems.extend(exc.problems)
            return None
        if project is None:
            return None
        modules = set(used_modules(spec))
        for missing in sorted(modules - bundled):
            problems.append(
                DslProblem(shown + DSL_FILE, 1, 1, f"module '{missing}' is not installed for target '{target}'")
            )
        try:
            rendered = compile_environment(
                spec=spec,
                target=target,
                project_id=environment_project_id(
                    service_control_id=project.service_control_id, name=project.name, environment=env
                ),
                team=project.team,
            )
        except ValueError as exc:  # the target's settings, e.g. GCP_DEPLOYER_ACCOUNT
            problems.append(DslProblem(shown + DSL_FILE, 1, 1, str(exc)))
            return None
        files = {DSL_FILE: entries[DSL_FILE], **{name: text.encode() for name, text in rendered.items()}}
        return "dsl", files, modules
    if terraform:
        for name in RESERVED_ENVIRONMENT_FILES:
            if name in terraform:
                problems.append(
                    DslProblem(shown + name, 1, 1, f"'{name}' is written by Hangar; put your Terraform in other files")
                )
        report = check_terraform_files(
            files={shown + name: data for name, data in terraform.items()},
            role="environment",
            target=target,
            bundled_modules=bundled,
            project_id=_project_id(project, env),
        )
        problems.extend(report.problems)
        resolved = get_target(target)
        project_id = _project_id(project, env)
        if project_id is None:
            return None
        try:
            providers = resolved.providers_tf(project_id)
        except ValueError as exc:
            problems.append(DslProblem(shown, 1, 1, str(exc)))
            return None
        files = {**terraform, "backend.tf": resolved.backend_tf().encode(), "providers.tf": providers.encode()}
        return "terraform", files, report.modules
    problems.append(DslProblem(shown, 1, 1, f"empty environment folder; add {DSL_FILE} (or remove the folder)"))
    return None


def _schema_problems(files: dict[str, bytes], target, modules_dir: Path) -> list[DslProblem]:
    """The provider-schema check of a target without a provider binary here (gcp): the bundled modules'
    resources and every environment's module calls and provider block."""
    from deployments.dsl.gcp_schema.validator import check_environment_files, check_module_files

    modules = {path: data for path, data in files.items() if path.startswith(f"modules/{target.name}/")}
    problems = check_module_files(modules, version=target.provider_version)
    for env in ENVIRONMENTS:
        prefix = f"{INFRASTRUCTURE}/{env}/"
        env_files = {path: data for path, data in files.items() if path.startswith(prefix) and path.endswith(".tf")}
        if env_files:
            problems += check_module_files(env_files, version=target.provider_version)
            problems += check_environment_files(
                env_files, modules_dir=modules_dir / target.name, module_prefix=target.module_source("")
            )
    return problems


def _project_id(project: ProjectInfo | None, env: str) -> str | None:
    """The environment's own cloud project; unknown (None) when hangar.yaml is broken, which is reported."""
    if project is None:
        return None
    return environment_project_id(service_control_id=project.service_control_id, name=project.name, environment=env)


def _available_modules(target_modules: Path) -> set[str]:
    if not target_modules.is_dir():
        return set()
    return {entry.name for entry in target_modules.iterdir() if entry.is_dir() and any(entry.glob("*.tf"))}


def _module_files(module_dir: Path) -> dict[str, bytes]:
    problems: list[DslProblem] = []
    files = _regular_files(module_dir, f"{module_dir.name}/", problems)
    if problems:
        raise DslError(problems)
    return files
