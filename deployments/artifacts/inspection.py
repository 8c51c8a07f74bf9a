"""Checks on an uploaded artifact before anything else reads it.

A zip is refused without being expanded when its directory says it is unsafe
(paths, links, duplicates, declared sizes and ratios, overlapping entries);
then every entry is streamed with a byte cap, since a directory can lie, and
its checksum compared with metadata.yaml. Terraform inside is checked against
the same policy as a build. Every refusal says why.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import importlib.metadata
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from yaml.nodes import MappingNode

from deployments.artifacts.metadata import METADATA_FILE, key_line, tree_digest, version_problem
from deployments.artifacts.project_file import ENVIRONMENTS, PROJECT_FILE, parse_project_file
from deployments.dsl.compiler import environment_project_id
from deployments.dsl.errors import DslError, DslProblem
from deployments.dsl.shared_section import shared_sections
from deployments.dsl.targets import TARGETS
from deployments.dsl.terraform_guards import TEMPLATE_SUFFIX, unchecked_terraform_file
from deployments.dsl.terraform_policy import RESERVED_ENVIRONMENT_FILES, check_terraform_files
from deployments.dsl.yaml_loader import load_yaml, plain_value

CHUNK = 64 * 1024
SYMLINK_MODE = 0o120000
FILE_TYPE_MASK = 0o170000
REGULAR_OR_UNSET = (0, 0o100000)
DIRECTORY_MODE = 0o040000
SMALL_TEXT_LIMIT = 1_000_000  # metadata.yaml, hangar.yaml and each .tf are read into memory up to this
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Bump when the checks change in a way the source digest below cannot see (data they read, say).
CHECKS_VERSION = "1"
# The code the checks are made of: a change to any of it invalidates every recorded pass.
_CHECK_SOURCES = (
    Path(__file__).with_name("inspection.py"),
    Path(__file__).with_name("metadata.py"),
    Path(__file__).with_name("project_file.py"),
    *sorted((Path(__file__).parents[1] / "dsl").glob("*.py")),
)
_CHECK_LIBRARIES = ("python-hcl2", "lark", "PyYAML")


@dataclass(frozen=True)
class UploadLimits:
    max_compressed_bytes: int = 50 * 1024 * 1024
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    max_file_bytes: int = 20 * 1024 * 1024
    max_files: int = 2_000
    max_ratio: float = 200.0  # uncompressed/compressed, per entry and for the whole archive
    ratio_floor_bytes: int = 64 * 1024  # small entries may compress well without being a bomb


@dataclass(frozen=True)
class ArtifactManifest:
    project_slug: str
    team: str
    version: str
    target: str
    environments: dict[str, str]  # env → "dsl" | "terraform"
    files: dict[str, str]  # path → sha256, metadata.yaml excluded
    content_sha256: str  # digest of `files`: equal content ⇒ equal digest, whatever the build time
    archive_sha256: str
    metadata: dict
    entries_sha256: str = ""  # digest of every entry as read, metadata.yaml included


def _entries_digest(contents: dict) -> str:
    return tree_digest(contents["checksums"])


class ArtifactRejected(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("artifact refused:\n" + "\n".join(f"- {problem}" for problem in problems))


@functools.cache
def checks_rules_version() -> str:
    """What the checks are today: CHECKS_VERSION, their source and the parsers they rely on."""
    digest = hashlib.sha256(CHECKS_VERSION.encode())
    for path in _CHECK_SOURCES:
        digest.update(f"\0{path.name}\0".encode() + path.read_bytes())
    for library in _CHECK_LIBRARIES:
        digest.update(f"\0{library}=={importlib.metadata.version(library)}".encode())
    return digest.hexdigest()


def checks_seal(
    *, archive_sha256: str, entries_sha256: str, expected_project_slug: str, platform_project_slug: str | None
) -> str:
    """Proof that this archive passed every check of the current rules for this project.

    It names the archive's SHA-256 and the digest of its entries as read, so the bytes hashed, the
    entries read and (through their checksums) the files unpacked are all the ones that passed.
    Keyed with SECRET_KEY, so a row written behind the upload service (a bug, a restored backup, a
    hand-made INSERT) cannot claim a pass it never had, nor borrow another archive's or project's."""
    from django.utils.crypto import salted_hmac  # late: builds run these checks without Django settings

    message = "\n".join(
        [checks_rules_version(), expected_project_slug, platform_project_slug or "", archive_sha256, entries_sha256]
    )
    return salted_hmac("hangar.artifact-checks", message, algorithm="sha256").hexdigest()


def inspect_upload(
    fileobj: BinaryIO,
    *,
    expected_project_slug: str,
    limits: UploadLimits | None = None,
    platform_project_slug: str | None = None,
    seal: str = "",
) -> ArtifactManifest:
    """Check an uploaded zip (a seekable binary file) and describe it; raise ArtifactRejected.

    `platform_project_slug` names the shared Airflow's platform project: only its artifacts may use
    the DSL's `shared:` section and name the members' projects (None: no artifact may).

    `seal` is what `checks_seal` gave when this archive was accepted. When it matches the bytes read
    here and today's rules, the parse of its Terraform and `shared:` sections is not repeated: the
    same bytes passed the same rules. The zip's structure, limits and checksums are checked anyway."""
    limits = limits or UploadLimits()
    size = fileobj.seek(0, 2)
    if size > limits.max_compressed_bytes:
        raise ArtifactRejected([f"the zip is {size} bytes; at most {limits.max_compressed_bytes} are allowed"])
    fileobj.seek(0)
    archive_hash = hashlib.sha256()
    while chunk := fileobj.read(CHUNK):
        archive_hash.update(chunk)
    fileobj.seek(0)
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ArtifactRejected([f"not a readable zip archive ({exc})"]) from None
    with archive:
        entries = _check_directory(archive, size, limits)
        if refusal := source_tree_refusal([entry.filename for entry in entries]):
            raise ArtifactRejected([refusal])
        contents = _stream_entries(archive, entries, limits)
        archive_sha256 = archive_hash.hexdigest()
        sealed = bool(seal) and hmac.compare_digest(
            seal,
            checks_seal(
                archive_sha256=archive_sha256,
                entries_sha256=_entries_digest(contents),
                expected_project_slug=expected_project_slug,
                platform_project_slug=platform_project_slug,
            ),
        )
        return _check_content(
            contents,
            expected_project_slug,
            archive_sha256,
            platform_project_slug=platform_project_slug,
            policy=not sealed,
        )


def source_tree_refusal(names: list[str]) -> str | None:
    """A project's repository (e.g. the starter) zipped as it is, rather than built: say what to do."""
    if METADATA_FILE in names:
        return None
    for name in names:
        parts = name.split("/")
        # hangar.yaml at the top, or in one top folder (how the starter and most zip tools pack a folder).
        if parts[-1] != PROJECT_FILE or len(parts) > 2:
            continue
        prefix = f"{parts[0]}/" if len(parts) == 2 else ""
        if any(
            other.startswith(f"{prefix}infrastructure/")
            and other.endswith("/main.yaml")
            and other.count("/") == prefix.count("/") + 2
            for other in names
        ):
            example = f", e.g. {prefix}" if prefix else ""
            return (
                f"this is a project's source, not a built artifact: it has {PROJECT_FILE} and "
                f"infrastructure/<env>/main.yaml but no {METADATA_FILE}. Build it first with "
                f"`hangar build PATH --version X` (PATH is the folder holding {PROJECT_FILE}"
                f"{example}; X a new version such as 0.1.0) and upload the zip it writes to dist/."
            )
    return None


def _check_directory(archive: zipfile.ZipFile, size: int, limits: UploadLimits) -> list[zipfile.ZipInfo]:
    """Everything that can be judged from the zip's directory alone; returns the file entries."""
    infos = archive.infolist()
    if len(infos) > limits.max_files:
        raise ArtifactRejected([f"the zip has {len(infos)} entries; at most {limits.max_files} are allowed"])
    problems: list[str] = []
    seen: set[str] = set()
    files = []
    total = 0
    for info in infos:
        name = info.filename
        mode = info.external_attr >> 16
        kind = mode & FILE_TYPE_MASK
        reason = _unsafe_name(name)
        if reason:
            problems.append(f"entry '{name}': {reason}")
            continue
        folded = name.rstrip("/").lower()
        if folded in seen:
            problems.append(f"entry '{name}' appears twice (names must be unique, ignoring case)")
            continue
        seen.add(folded)
        if kind == SYMLINK_MODE:
            problems.append(f"entry '{name}' is a symbolic link; links are not allowed")
            continue
        if info.is_dir():
            continue
        if kind not in REGULAR_OR_UNSET:
            problems.append(f"entry '{name}' is not a regular file (mode {oct(mode)})")
            continue
        if info.flag_bits & 0x1:
            problems.append(f"entry '{name}' is encrypted; artifacts are plain zips")
            continue
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            problems.append(f"entry '{name}' uses compression method {info.compress_type}; only stored or deflated")
            continue
        if info.file_size > limits.max_file_bytes:
            problems.append(
                f"entry '{name}' expands to {info.file_size} bytes; at most {limits.max_file_bytes} per file"
            )
        elif info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            problems.append(
                f"entry '{name}' expands {info.file_size // max(info.compress_size, 1)}x "
                f"({info.compress_size} → {info.file_size} bytes); at most {limits.max_ratio:g}x (zip bomb?)"
            )
        total += info.file_size
        files.append(info)
    if total > limits.max_uncompressed_bytes:
        problems.append(f"the zip expands to {total} bytes; at most {limits.max_uncompressed_bytes} are allowed")
    elif total > limits.ratio_floor_bytes and total > limits.max_ratio * max(size, 1):
        problems.append(f"the zip expands {total // max(size, 1)}x overall; at most {limits.max_ratio:g}x (zip bomb?)")
    if sum(info.compress_size for info in files) > size:
        problems.append("entries overlap one another (their compressed sizes exceed the zip's size): zip bomb?")
    if problems:
        raise ArtifactRejected(problems)
    return files


def _unsafe_name(name: str) -> str | None:
    if not name or "\x00" in name:
        return "empty name or NUL character"
    if "\\" in name:
        return "backslashes are not allowed in paths"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "absolute paths are not allowed"
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        return "'..' is not allowed in paths"
    if any(part in ("", ".") for part in parts):
        return "empty or '.' path components are not allowed"
    return None


def _stream_entries(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], limits: UploadLimits) -> dict:
    """sha256 of every file, read with a byte cap; small text files are kept for the next checks."""
    checksums: dict[str, str] = {}
    texts: dict[str, bytes] = {}
    problems: list[str] = []
    total = 0
    for info in entries:
        digest = hashlib.sha256()
        keep = _needs_text(info.filename)
        kept = bytearray()
        read = 0
        cap = min(info.file_size, limits.max_file_bytes)
        try:
            with archive.open(info) as stream:
                while chunk := stream.read(CHUNK):
                    read += len(chunk)
                    total += len(chunk)
                    if read > cap or total > limits.max_uncompressed_bytes:
                        raise ArtifactRejected(
                            [f"entry '{info.filename}' expands beyond its declared size or the limits (zip bomb?)"]
                        )
                    digest.update(chunk)
                    if keep and read <= SMALL_TEXT_LIMIT:
                        kept.extend(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            problems.append(f"entry '{info.filename}' is corrupt ({exc})")
            continue
        checksums[info.filename] = digest.hexdigest()
        if keep:
            if read > SMALL_TEXT_LIMIT:
                problems.append(f"entry '{info.filename}' is {read} bytes; at most {SMALL_TEXT_LIMIT} for this file")
            else:
                texts[info.filename] = bytes(kept)
    if problems:
        raise ArtifactRejected(problems)
    return {"checksums": checksums, "texts": texts}


def _needs_text(name: str) -> bool:
    return name in (METADATA_FILE, PROJECT_FILE) or name.endswith((".tf", TEMPLATE_SUFFIX, "/main.yaml"))


def _check_content(
    contents: dict,
    expected_project_slug: str,
    archive_sha256: str,
    *,
    platform_project_slug: str | None = None,
    policy: bool = True,
) -> ArtifactManifest:
    checksums: dict[str, str] = contents["checksums"]
    texts: dict[str, bytes] = contents["texts"]
    problems: list[str] = []
    metadata = _read_metadata(texts.get(METADATA_FILE), problems)
    target_name = str(metadata.get("target", ""))
    if target_name not in TARGETS:
        problems.append(f"{METADATA_FILE}: target '{target_name}' is unknown; known: {', '.join(sorted(TARGETS))}")
    version = str(metadata.get("version", ""))
    if problem := version_problem(version):
        problems.append(f"{METADATA_FILE}:{key_line(texts.get(METADATA_FILE), 'version')}: {problem}")
    listed = metadata.get("files")
    listed = listed if isinstance(listed, dict) else {}
    if not listed:
        problems.append(f"{METADATA_FILE}: 'files' must map every file of the zip to its sha256")
    present = {path: digest for path, digest in checksums.items() if path != METADATA_FILE}
    checksum_problems = len(problems)
    for path in sorted(set(present) | set(listed)):
        if path not in listed:
            problems.append(f"'{path}' is in the zip but not in {METADATA_FILE}")
        elif path not in present:
            problems.append(f"'{path}' is listed in {METADATA_FILE} but missing from the zip")
        elif str(listed[path]) != present[path]:
            problems.append(f"'{path}' does not match its checksum in {METADATA_FILE} (changed after the build?)")
    files_agree = len(problems) == checksum_problems
    if files_agree and "content_sha256" in metadata and metadata["content_sha256"] != tree_digest(present):
        problems.append(f"{METADATA_FILE}: content_sha256 does not match the files")
    project = None
    if PROJECT_FILE not in texts:
        problems.append(f"{PROJECT_FILE} is missing; it names the project the artifact belongs to")
    else:
        try:
            project = parse_project_file(text=texts[PROJECT_FILE])
        except DslError as exc:
            problems.extend(str(problem) for problem in exc.problems)
    if project is not None:
        if project.slug != expected_project_slug:
            problems.append(
                f"this artifact belongs to project '{project.slug}' ({PROJECT_FILE}), not '{expected_project_slug}'"
            )
        if metadata.get("project") != project.slug:
            problems.append(
                f"{METADATA_FILE} names project '{metadata.get('project')}' but {PROJECT_FILE} '{project.slug}'"
            )
    environments = _check_layout(present, metadata, target_name, problems)
    if target_name in TARGETS and policy:
        members = _check_shared(texts, environments, project, platform_project_slug, problems)
        project_ids = {
            env: environment_project_id(
                service_control_id=project.service_control_id, name=project.name, environment=env
            )
            for env in environments
            if project is not None and project.slug == expected_project_slug
        }
        _check_terraform(texts, target_name, environments, problems, project_ids=project_ids, members=members)
    if problems:
        raise ArtifactRejected(problems)
    return ArtifactManifest(
        project_slug=project.slug,
        team=project.team,
        version=version,
        target=target_name,
        environments=environments,
        files=dict(sorted(present.items())),
        content_sha256=tree_digest(present),
        archive_sha256=archive_sha256,
        metadata=metadata,
        entries_sha256=_entries_digest(contents),
    )


def _read_metadata(text: bytes | None, problems: list[str]) -> dict:
    if text is None:
        problems.append(f"{METADATA_FILE} is missing; an artifact lists its files and their checksums there")
        return {}
    try:
        root = load_yaml(text=text, filename=METADATA_FILE)
    except DslError as exc:
        problems.extend(str(problem) for problem in exc.problems)
        return {}
    if not isinstance(root, MappingNode):
        problems.append(f"{METADATA_FILE} must be a mapping")
        return {}
    yaml_problems = []
    data = plain_value(root, METADATA_FILE, yaml_problems)
    problems.extend(str(problem) for problem in yaml_problems)
    return data


def _check_layout(present: dict[str, str], metadata: dict, target: str, problems: list[str]) -> dict[str, str]:
    declared = metadata.get("environments")
    declared = declared if isinstance(declared, dict) else {}
    found: dict[str, set[str]] = {}
    for path in sorted(present):
        parts = path.split("/")
        if path.endswith(".tf.json"):
            problems.append(f"'{path}': JSON Terraform is not accepted; use .tf files")
        elif unchecked_terraform_file(path) and not path.endswith(".tf"):  # override .tf files: the policy refuses
            problems.append(str(DslProblem(path, 1, 1, unchecked_terraform_file(path))))
        elif path in (PROJECT_FILE,) or (parts[:2] == ["infrastructure", "bq_schemas"] and len(parts) > 2):
            continue
        elif parts[0] == "infrastructure" and len(parts) == 3 and parts[1] in ENVIRONMENTS:
            if parts[2] != "main.yaml" and not parts[2].endswith(".tf"):
                problems.append(f"'{path}': an environment folder holds only main.yaml and .tf files")
            found.setdefault(parts[1], set()).add(parts[2])
        elif parts[:2] == ["modules", target] and len(parts) > 3:
            continue
        else:
            problems.append(
                f"'{path}' is outside the artifact layout (hangar.yaml, metadata.yaml, infrastructure/bq_schemas/, "
                f"infrastructure/<{'|'.join(ENVIRONMENTS)}>/, modules/{target}/<name>/)"
            )
    environments = {}
    for env, names in sorted(found.items()):
        kind = declared.get(env)
        if kind not in ("dsl", "terraform"):
            problems.append(f"{METADATA_FILE}: environment '{env}' must be declared as 'dsl' or 'terraform'")
            continue
        missing = sorted({"backend.tf", "providers.tf"} - names)
        if missing:
            problems.append(f"environment '{env}' lacks {', '.join(missing)}")
        environments[env] = kind
    for env in sorted(set(declared) - set(found)):
        problems.append(f"{METADATA_FILE} declares environment '{env}' but the zip has no infrastructure/{env}/")
    if not environments and not problems:
        problems.append("the artifact has no environment (infrastructure/<env>/)")
    return environments


def _check_shared(
    texts: dict[str, bytes], environments: dict[str, str], project, platform_slug: str | None, problems: list[str]
) -> dict[str, tuple[str, ...]]:
    """`shared:` only in the platform project's artifacts; returns the members' project ids per environment."""
    members: dict[str, tuple[str, ...]] = {}
    for env, kind in environments.items():
        path = f"infrastructure/{env}/main.yaml"
        if kind != "dsl" or path not in texts:
            continue
        sections, yaml_problems = shared_sections(text=texts[path], filename=path)
        problems.extend(str(problem) for problem in yaml_problems)
        for section in sections:
            if project is not None and platform_slug is not None and project.slug == platform_slug:
                members[env] = members.get(env, ()) + section.member_project_ids
                continue
            where = f"the platform project '{platform_slug}'" if platform_slug else "the platform project"
            problems.append(
                str(
                    DslProblem(
                        path,
                        section.line,
                        section.column,
                        f"'shared' (composer '{section.composer}') is accepted only in the artifacts of {where}, "
                        "which runs the shared Airflow; to use it, onboard this project to the shared Airflow "
                        "(/shared-composer/onboard/) instead",
                    )
                )
            )
    return members


def _check_terraform(
    texts: dict[str, bytes],
    target: str,
    environments: dict[str, str],
    problems: list[str],
    *,
    project_ids: dict[str, str] | None = None,
    members: dict[str, tuple[str, ...]] | None = None,
) -> None:
    resolved = TARGETS[target]
    module_prefix = f"modules/{target}/"
    bundled = {path.removeprefix(module_prefix).split("/")[0] for path in texts if path.startswith(module_prefix)}
    for env in environments:
        prefix = f"infrastructure/{env}/"
        try:
            providers = resolved.providers_tf((project_ids or {}).get(env))
        except ValueError as exc:
            problems.append(f"'{prefix}providers.tf': {exc}")
            continue
        expected = {"backend.tf": resolved.backend_tf().encode(), "providers.tf": providers.encode()}
        env_files = {path: text for path, text in texts.items() if path.startswith(prefix) and path.endswith(".tf")}
        for name in RESERVED_ENVIRONMENT_FILES:
            if env_files.pop(prefix + name, expected[name]) != expected[name]:
                problems.append(f"'{prefix}{name}' differs from what Hangar writes for target '{target}'")
        report = check_terraform_files(
            files=env_files,
            role="environment",
            target=target,
            bundled_modules=bundled,
            project_id=(project_ids or {}).get(env),
            other_project_ids=(members or {}).get(env, ()),
        )
        problems.extend(str(problem) for problem in report.problems)
    for name in sorted(bundled):
        prefix = f"{module_prefix}{name}/"
        module_files = {
            path: text
            for path, text in texts.items()
            if path.startswith(prefix) and path.endswith((".tf", TEMPLATE_SUFFIX))
        }
        report = check_terraform_files(files=module_files, role="module", target=target, bundled_modules=bundled)
        problems.extend(str(problem) for problem in report.problems)
