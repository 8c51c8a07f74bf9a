"""Artifacts: the immutable, versioned zip of a project's infrastructure.

The format needs no Django and is re-exported here: building (`build`), checking an upload
before anything reads it (`inspection`), `metadata.yaml`, the starter repository. Beside it,
the portal's side: the model, uploads (`services`), reads (`selectors`), browsing and diffs
(`browse`), pages (`views`) and the API (`api`). See docs/artifacts.md."""

from deployments.artifacts.build import BuiltArtifact, build_artifact, build_time, write_artifact
from deployments.artifacts.inspection import ArtifactManifest, ArtifactRejected, UploadLimits, inspect_upload
from deployments.artifacts.project_file import ProjectInfo, parse_project_file
from deployments.artifacts.starter import starter_files, starter_repository

__all__ = [
    "ArtifactManifest",
    "ArtifactRejected",
    "BuiltArtifact",
    "ProjectInfo",
    "UploadLimits",
    "build_artifact",
    "build_time",
    "inspect_upload",
    "parse_project_file",
    "starter_files",
    "starter_repository",
    "write_artifact",
]
