import io
import zipfile

from deployments.artifacts import build_artifact, inspect_upload, starter_repository
from tests.artifacts.helpers import BUILT_AT


def test_starter_repository_builds_into_a_valid_artifact(tmp_path, contract_modules):
    data = starter_repository(service_control_id=456, name="new-project", team="analytics")
    assert data == starter_repository(service_control_id=456, name="new-project", team="analytics")
    zipfile.ZipFile(io.BytesIO(data)).extractall(tmp_path)
    source = tmp_path / "sc-456-new-project"
    for folder in ("dags", "doc", "requirements", "src", "infrastructure/bq_schemas"):
        assert (source / folder).is_dir()
    assert "build_artifact" in (source / "README.md").read_text()
    built = build_artifact(
        source_dir=source, version="0.1.0", project_slug="sc-456-new-project", modules_dir=contract_modules,
        built_at=BUILT_AT,
    )  # fmt: skip
    manifest = inspect_upload(io.BytesIO(built.content), expected_project_slug="sc-456-new-project")
    assert manifest.environments == {"dev": "dsl", "prod": "dsl", "test": "dsl"} and manifest.team == "analytics"
