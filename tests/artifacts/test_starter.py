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
    assert "hangar build --version 0.1.0" in (source / "README.md").read_text()
    built = build_artifact(
        source_dir=source, version="0.1.0", project_slug="sc-456-new-project", modules_dir=contract_modules,
        built_at=BUILT_AT,
    )  # fmt: skip
    manifest = inspect_upload(io.BytesIO(built.content), expected_project_slug="sc-456-new-project")
    assert manifest.environments == {"dev": "dsl", "prod": "dsl", "test": "dsl"} and manifest.team == "analytics"


def test_uploading_the_starter_repository_says_to_build_it_first():
    import pytest

    from deployments.artifacts import ArtifactRejected

    source = starter_repository(service_control_id=123, name="example", team="data-engine")
    with pytest.raises(ArtifactRejected) as caught:
        inspect_upload(io.BytesIO(source), expected_project_slug="sc-123-example")
    assert caught.value.problems == [
        "this is a project's source, not a built artifact: it has hangar.yaml and infrastructure/<env>/main.yaml "
        "but no metadata.yaml. Build it first with `hangar build PATH --version X` (PATH is "
        "the folder holding hangar.yaml, e.g. sc-123-example/; X a new version such as 0.1.0) and upload the zip "
        "it writes to dist/."
    ]


def test_a_source_tree_without_a_top_folder_is_recognised_too(tmp_path):
    import pytest

    from deployments.artifacts import ArtifactRejected

    source = zipfile.ZipFile(io.BytesIO(starter_repository(service_control_id=123, name="example", team="t")))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as flat:
        for info in source.infolist():
            flat.writestr(info.filename.split("/", 1)[1], source.read(info))
    with pytest.raises(ArtifactRejected) as caught:
        inspect_upload(io.BytesIO(buffer.getvalue()), expected_project_slug="sc-123-example")
    [problem] = caught.value.problems
    assert problem.startswith("this is a project's source, not a built artifact")
    assert "(PATH is the folder holding hangar.yaml; X a new version" in problem
