"""Reading stored artifacts for people: list rows, file tree, one file, and the
difference between two versions. Only files named in an artifact's manifest are
ever read, each checked against its checksum (see `artifact_read_file`)."""

import difflib
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet
from django.utils.safestring import SafeString

from deployments.artifacts.highlight import highlight, language_for
from deployments.artifacts.metadata import METADATA_FILE
from deployments.artifacts.models import Artifact
from deployments.artifacts.project_file import ENVIRONMENTS
from deployments.artifacts.selectors import project_artifacts
from deployments.artifacts.services import artifact_read_file
from deployments.runs.models import Deployment
from onboarding.models import Project

VIEW_LIMIT = 512 * 1024  # bytes of one file shown in a page; larger ones are for download
DIFF_LIMIT = 512 * 1024  # bytes of one file read for a diff
# A comparison page stays readable and cheap: at most this many files are compared, and at most this
# many diff lines shown in all. Whatever is left out is counted and the page says so.
DIFF_MAX_FILES = 100
DIFF_MAX_LINES = 5000


# The list -------------------------------------------------------------------


def artifact_list(project: Project) -> QuerySet[Artifact]:
    """The project's artifacts, newest version first, each with `run_count`."""
    return project_artifacts(project).select_related("project").annotate(run_count=Count("runs"))


@dataclass(frozen=True)
class ArtifactRow:
    artifact: Artifact
    deployed_to: list[str]  # "dev", "prod (gcp)": deployments whose applied version this is
    run_count: int


def artifact_rows(artifacts: Iterable[Artifact]) -> list[ArtifactRow]:
    """Rows for a page of `artifact_list`, with where each version runs now (one query)."""
    artifacts = list(artifacts)
    deployed: dict[int, list[str]] = defaultdict(list)
    for deployment in deployments_running([artifact.pk for artifact in artifacts]):
        deployed[deployment.deployed_artifact_id].append(deployment_label(deployment))
    return [
        ArtifactRow(artifact=artifact, deployed_to=deployed[artifact.pk], run_count=getattr(artifact, "run_count", 0))
        for artifact in artifacts
    ]


def deployments_running(artifact_ids: list[int]) -> QuerySet[Deployment]:
    return (
        Deployment.objects.filter(deployed_artifact_id__in=artifact_ids)
        .select_related("environment")
        .order_by("environment__position", "target")
    )


def deployment_label(deployment: Deployment) -> str:
    name = deployment.environment.name
    return name if deployment.target == "local" else f"{name} ({deployment.target})"


def artifact_previous(artifact: Artifact) -> Artifact | None:
    """The version just before this one, if any."""
    return project_artifacts(artifact.project).filter(version_key__lt=artifact.version_key).first()


# The file tree --------------------------------------------------------------


@dataclass(frozen=True)
class FileEntry:
    path: str
    name: str
    size: int | None
    sha256: str


@dataclass(frozen=True)
class Folder:
    path: str  # "" for the top level
    files: list[FileEntry]


def _stored_sizes(artifact: Artifact) -> dict[str, int]:
    """Sizes from the stored zip's directory (the zip was checked on upload); empty if unreadable."""
    try:
        with artifact.file.open("rb") as fileobj, zipfile.ZipFile(fileobj) as archive:
            return {info.filename: info.file_size for info in archive.infolist()}
    except (OSError, ValueError, zipfile.BadZipFile):
        return {}


def artifact_file_tree(artifact: Artifact) -> list[Folder]:
    """The manifest's files grouped by folder: the top level first, then folders by name."""
    sizes = _stored_sizes(artifact)
    folders: dict[str, list[FileEntry]] = defaultdict(list)
    for path, sha256 in sorted(artifact.manifest.get("files", {}).items()):
        folder, _, name = path.rpartition("/")
        folders[folder].append(FileEntry(path=path, name=name, size=sizes.get(path), sha256=sha256))
    return [Folder(path=folder, files=folders[folder]) for folder in sorted(folders)]


# One file -------------------------------------------------------------------


@dataclass(frozen=True)
class FileView:
    path: str
    sha256: str
    language: str | None
    lines: list[SafeString] = field(default_factory=list)
    unavailable: str = ""  # why the text is not shown (binary, too large, damaged)


def _as_text(data: bytes) -> str | None:
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def artifact_file_view(*, artifact: Artifact, path: str, limit: int = VIEW_LIMIT) -> FileView:
    """One file for display, highlighted; raises KeyError unless `path` is exactly a manifest name."""
    files = artifact.manifest.get("files", {})
    if path not in files:
        raise KeyError(path)
    view = {"path": path, "sha256": files[path], "language": language_for(path)}
    try:
        data = artifact_read_file(artifact=artifact, path=path, limit=limit)
    except (ValueError, OSError, zipfile.BadZipFile) as error:
        return FileView(**view, unavailable=str(error))
    text = _as_text(data)
    if text is None:
        return FileView(**view, unavailable=f"{path} is a binary file; download the artifact to read it.")
    return FileView(**view, lines=highlight(text, view["language"]))


# The difference between two versions ----------------------------------------


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "file" (the ---/+++ headers), "hunk", "add", "del" or "ctx"
    text: str


@dataclass(frozen=True)
class FileDiff:
    path: str
    status: str  # "added", "removed" or "changed"
    lines: list[DiffLine]
    added: int
    removed: int
    note: str = ""  # why no lines are shown (binary, too large)
    more_lines: int = 0  # diff lines left out to keep the page within DIFF_MAX_LINES


@dataclass(frozen=True)
class Comparison:
    """What differs between two versions: first the files people edit (`sources`: every environment's
    main.yaml, the schema files, hangar.yaml), then the `terraform` generated from them.

    The caps hold across both lists: sources are read first, so a huge source diff leaves the
    Terraform out rather than the other way round. Differing files left out are counted per list."""

    sources: list[FileDiff]
    terraform: list[FileDiff]
    more_sources: int = 0
    more_terraform: int = 0

    @property
    def files(self) -> list[FileDiff]:
        return [*self.sources, *self.terraform]

    @property
    def more_files(self) -> int:
        return self.more_sources + self.more_terraform

    @property
    def terraform_total(self) -> int:
        return len(self.terraform) + self.more_terraform

    @property
    def terraform_added(self) -> int:
        return sum(diff.added for diff in self.terraform)

    @property
    def terraform_removed(self) -> int:
        return sum(diff.removed for diff in self.terraform)


def is_terraform_file(path: str) -> bool:
    """The generated side of a diff: the Terraform of every environment and the bundled modules."""
    return (path.startswith("infrastructure/") and path.endswith(".tf")) or path.startswith("modules/")


def is_source_file(path: str) -> bool:
    """The side people edit: every other manifest file (main.yaml, schema JSON, hangar.yaml, ...).
    metadata.yaml is never one: it changes with every build and the page header says what it holds."""
    return path != METADATA_FILE and not is_terraform_file(path)


def _source_order(environments: list[str]):
    """main.yaml of each environment in the project's order, then the schemas, then the rest."""
    position = {env: index for index, env in enumerate(environments)}

    def key(path: str) -> tuple:
        parts = path.split("/")
        if len(parts) == 3 and parts[0] == "infrastructure" and parts[2] == "main.yaml":
            return (0, position.get(parts[1], len(position)), path)
        if path.startswith("infrastructure/bq_schemas/"):
            return (1, 0, path)
        return (2, 0, path)

    return key


def _diff_lines(old_text: str, new_text: str, *, old_name: str, new_name: str) -> list[DiffLine]:
    diff = difflib.unified_diff(
        old_text.splitlines(), new_text.splitlines(), fromfile=old_name, tofile=new_name, lineterm="", n=3
    )
    lines = []
    for index, line in enumerate(diff):
        if index < 2:
            lines.append(DiffLine(kind="file", text=line))  # "--- from" and "+++ to"
            continue
        kind = {"@": "hunk", "+": "add", "-": "del"}.get(line[:1], "ctx")
        lines.append(DiffLine(kind=kind, text=line if kind == "hunk" else line[1:]))
    return lines


def _text_or_note(artifact: Artifact | None, path: str) -> tuple[str, str]:
    if artifact is None:
        return "", ""
    try:
        text = _as_text(artifact_read_file(artifact=artifact, path=path, limit=DIFF_LIMIT))
    except (ValueError, OSError, zipfile.BadZipFile) as error:
        return "", str(error)
    return (text, "") if text is not None else ("", f"{path} is a binary file.")


@dataclass
class _Budget:
    files: int
    lines: int


def _file_diffs(*, old: Artifact, new: Artifact, paths: list[str], budget: _Budget) -> list[FileDiff]:
    old_files = old.manifest.get("files", {})
    new_files = new.manifest.get("files", {})
    diffs = []
    for path in paths:
        if budget.files <= 0 or budget.lines <= 0:
            break
        budget.files -= 1
        status = "added" if path not in old_files else "removed" if path not in new_files else "changed"
        old_text, old_note = _text_or_note(old if path in old_files else None, path)
        new_text, new_note = _text_or_note(new if path in new_files else None, path)
        note = old_note or new_note
        lines = (
            []
            if note
            else _diff_lines(
                old_text,
                new_text,
                old_name=f"{old.version}/{path}" if path in old_files else "/dev/null",
                new_name=f"{new.version}/{path}" if path in new_files else "/dev/null",
            )
        )
        shown = lines[: budget.lines]
        budget.lines -= len(shown)
        diffs.append(
            FileDiff(
                path=path,
                status=status,
                lines=shown,
                added=sum(line.kind == "add" for line in lines),
                removed=sum(line.kind == "del" for line in lines),
                note=note,
                more_lines=len(lines) - len(shown),
            )
        )
    return diffs


def artifact_diff(*, old: Artifact, new: Artifact) -> Comparison:
    """Unified diffs of the files that differ between two versions, by path: the sources first
    (`is_source_file`), then the generated Terraform (`is_terraform_file`).

    At most DIFF_MAX_FILES files are read and DIFF_MAX_LINES lines kept in all, over both lists;
    the rest is counted in `more_sources`, `more_terraform` and each file's `more_lines`, so the
    page can say what it does not show."""
    old_files = old.manifest.get("files", {})
    new_files = new.manifest.get("files", {})
    differing = [path for path in old_files.keys() | new_files.keys() if old_files.get(path) != new_files.get(path)]
    sources = sorted((path for path in differing if is_source_file(path)), key=_source_order(list(ENVIRONMENTS)))
    terraform = sorted(path for path in differing if is_terraform_file(path))
    budget = _Budget(files=DIFF_MAX_FILES, lines=DIFF_MAX_LINES)
    source_diffs = _file_diffs(old=old, new=new, paths=sources, budget=budget)
    terraform_diffs = _file_diffs(old=old, new=new, paths=terraform, budget=budget)
    return Comparison(
        sources=source_diffs,
        terraform=terraform_diffs,
        more_sources=len(sources) - len(source_diffs),
        more_terraform=len(terraform) - len(terraform_diffs),
    )


@dataclass(frozen=True)
class BuildFacts:
    """What one side of a comparison says about its build, from the manifest's metadata.yaml."""

    version: str
    builder: str
    built_at: str
    source_revision: str
    hangar_version: str


def build_facts(artifact: Artifact) -> BuildFacts:
    metadata = artifact.manifest.get("metadata") or {}
    return BuildFacts(
        version=artifact.version,
        builder=str(metadata.get("builder") or ""),
        built_at=str(metadata.get("built_at") or ""),
        source_revision=str(metadata.get("source_revision") or ""),
        hangar_version=str(metadata.get("hangar_version") or ""),
    )
