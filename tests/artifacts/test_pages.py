"""The artifact pages: list, detail, files, downloads and diffs; who sees them."""

import hashlib
import io
import json
import re
import time
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deployments.artifacts.browse import VIEW_LIMIT, artifact_file_view, is_terraform_file
from deployments.artifacts.highlight import highlight
from deployments.artifacts.models import Artifact
from deployments.artifacts.project_file import ENVIRONMENTS
from deployments.artifacts.services import artifact_upload, version_key
from deployments.runs.models import Deployment, Run
from onboarding.access import can_deploy
from tests.artifacts.pages import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(project, member, upload):
    """Two versions: 0.2.0 adds the events table; 0.1.0 also runs in dev."""
    old = upload(project, member, "0.1.0")
    new = upload(project, member, "0.2.0", tables=("summary", "events"))
    deployment = Deployment.objects.create(
        environment=project.environments.get(name="dev"), target="local", deployed_artifact=old
    )
    Run.objects.create(deployment=deployment, artifact=old, requested_by=member, status="succeeded")
    return old, new


def url(name: str, project, *args) -> str:
    return reverse(name, args=[project.slug, *args])


def pages_of(project, artifact) -> list[str]:
    return [
        url("project_artifacts", project),
        url("artifact_detail", project, artifact.version),
        url("artifact_file", project, artifact.version, "infrastructure/dev/main.tf"),
        url("artifact_download", project, artifact.version),
        url("artifact_diff", project) + "?from=0.1.0&to=0.2.0",
        url("artifact_starter", project),
        f"/api/projects/{project.slug}/artifacts/",
    ]


# Who sees what ----------------------------------------------------------------


def test_an_outsider_gets_404_on_every_artifact_page_and_the_api(client_for, outsider, project, stored):
    client = client_for(outsider)
    for page in pages_of(project, stored[0]):
        assert client.get(page).status_code == 404, page


def test_a_viewer_sees_every_artifact_page_but_no_upload_form(client_for, viewer, project, stored):
    client = client_for(viewer)
    assert not can_deploy(viewer, project)
    for page in pages_of(project, stored[0]):
        assert client.get(page).status_code == 200, page
    listing = client.get(url("project_artifacts", project)).text
    assert 'enctype="multipart/form-data"' not in listing and "Download starter repository" in listing


def test_the_artifacts_tab_is_on_the_project_page(client_for, member, project):
    page = client_for(member).get(url("project_detail", project)).text
    assert f'href="{url("project_artifacts", project)}"' in page and ">Artifacts</a>" in page


# The list -----------------------------------------------------------------------


def test_the_list_shows_versions_newest_first_with_where_they_run(client_for, member, project, stored, upload):
    upload(project, member, "0.10.0")
    response = client_for(member).get(url("project_artifacts", project))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row.artifact.version for row in rows] == ["0.10.0", "0.2.0", "0.1.0"]
    old = rows[2]
    assert old.deployed_to == ["dev"] and old.run_count == 1 and rows[0].run_count == 0
    text = response.text
    assert text.index("<code>0.10.0</code>") < text.index("<code>0.2.0</code>") < text.index("<code>0.1.0</code>")
    assert 'enctype="multipart/form-data"' in text and 'type="file"' in text and "bob" in text
    assert '<span class="badge ok">dev</span>' in text


def test_the_list_paginates(client_for, member, project):
    make_artifacts(project, member, 30)
    client = client_for(member)
    first = client.get(url("project_artifacts", project))
    assert "1–25 of 30" in first.text and len(first.context["rows"]) == 25
    second = client.get(url("project_artifacts", project) + "?page=2")
    assert [row.artifact.version for row in second.context["rows"]] == [f"0.{i}.0" for i in range(4, -1, -1)]


def make_artifacts(project, user, count: int) -> list[Artifact]:
    """Rows only (the list never opens the files), with deployments and runs for some."""
    artifacts = [
        Artifact.objects.create(
            project=project,
            version=f"0.{i}.0",
            version_key=version_key(f"0.{i}.0"),
            sha256=f"{i:064x}",
            size=1000 + i,
            file=f"artifacts/{project.slug}/{i}.zip",
            manifest={"environments": ["dev", "test", "prod"]},
            uploaded_by=user,
        )
        for i in range(count)
    ]
    for environment, artifact in zip(project.environments.all(), artifacts, strict=False):
        deployment = Deployment.objects.create(environment=environment, target="local", deployed_artifact=artifact)
        Run.objects.create(deployment=deployment, artifact=artifact, requested_by=user, status="succeeded")
    return artifacts


def test_the_list_does_a_constant_number_of_queries(client_for, member, project, django_assert_max_num_queries):
    client = client_for(member)
    make_artifacts(project, member, 1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url("project_artifacts", project)).status_code == 200
    for i in range(1, 20):
        Artifact.objects.create(
            project=project, version=f"1.{i}.0", version_key=version_key(f"1.{i}.0"), sha256="f" * 64, size=1,
            file="x.zip", manifest={}, uploaded_by=member,
        )  # fmt: skip
    assert Artifact.objects.count() == 20
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(url("project_artifacts", project))
    assert len(response.context["rows"]) == 20


# One version --------------------------------------------------------------------


def test_the_detail_page_shows_facts_and_the_file_tree(client_for, member, project, stored):
    old, _new = stored
    response = client_for(member).get(url("artifact_detail", project, "0.1.0"))
    text = response.text
    assert response.status_code == 200
    for fact in (old.sha256, old.manifest["content_sha256"], "tests", old.manifest["metadata"]["hangar_version"]):
        assert fact in text
    assert old.manifest["metadata"]["built_at"] in text and "bob" in text
    folders = {folder.path: folder for folder in response.context["folders"]}
    assert folders[""].files[0].path == "hangar.yaml"
    assert {"infrastructure/dev", "infrastructure/bq_schemas", "modules/local/table"} <= folders.keys()
    main_tf = next(file for file in folders["infrastructure/dev"].files if file.name == "main.tf")
    with zipfile.ZipFile(io.BytesIO(old.file.read())) as archive:
        assert main_tf.size == archive.getinfo("infrastructure/dev/main.tf").file_size
    assert main_tf.sha256 == old.manifest["files"]["infrastructure/dev/main.tf"]
    assert f'href="{url("artifact_file", project, "0.1.0", "infrastructure/dev/main.tf")}"' in text
    assert '<span class="badge ok">dev</span>' in text  # where it runs


def test_an_unknown_version_is_404(client_for, member, project, stored):
    assert client_for(member).get(url("artifact_detail", project, "9.9.9")).status_code == 404


def test_a_terraform_file_is_shown_highlighted_with_line_numbers(client_for, member, project, stored):
    response = client_for(member).get(url("artifact_file", project, "0.2.0", "infrastructure/dev/main.tf"))
    assert response.status_code == 200
    text = response.text
    assert (
        '<span class="tok-block">module</span> <span class="tok-string">&quot;table_example_reports--events&quot;</span>'
        in text
    )
    assert '<span class="tok-comment"># Generated by Hangar from main.yaml.' in text
    assert '<a href="#L1">1</a>' in text and 'id="L10"' in text


def test_a_yaml_file_is_highlighted(client_for, member, project, stored):
    response = client_for(member).get(url("artifact_file", project, "0.1.0", "infrastructure/dev/main.yaml"))
    assert '<span class="tok-key">infrastructure</span>:' in response.text


def test_file_contents_are_escaped(client_for, member, project, upload):
    upload(project, member, "0.1.0", description="<script>alert(1)</script>")
    response = client_for(member).get(url("artifact_file", project, "0.1.0", "infrastructure/dev/main.tf"))
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "metadata.yaml",  # in the zip but not a manifest name
        "infrastructure/dev",
        "infrastructure/dev/../dev/main.tf",
        "infrastructure/../../../etc/passwd",
        "/etc/passwd",
        "INFRASTRUCTURE/dev/main.tf",
        "infrastructure/dev/main.tf/",
    ],
)
def test_only_exact_manifest_names_are_served(client_for, member, project, stored, path):
    response = client_for(member).get(url("artifact_file", project, "0.1.0", "x")[: -len("x")] + path)
    assert response.status_code == 404


def test_binary_and_huge_files_are_not_rendered(client_for, member, project, tmp_path, media):
    # Digests compress poorly, so the big file is no zip bomb, just more than a page shows.
    big = json.dumps([hashlib.sha256(str(i).encode()).hexdigest() for i in range(9000)]).encode()
    data = build(tmp_path, "0.1.0", extra={"blob.json": b"\x00\x01\x02", "big.json": big})
    artifact, _ = artifact_upload(project=project, fileobj=io.BytesIO(data), user=member)
    client = client_for(member)
    binary = client.get(url("artifact_file", project, "0.1.0", "infrastructure/bq_schemas/blob.json"))
    assert binary.status_code == 200 and "is a binary file; download the artifact to read it." in binary.text
    assert 'class="code"' not in binary.text
    huge = client.get(url("artifact_file", project, "0.1.0", "infrastructure/bq_schemas/big.json"))
    assert huge.status_code == 200 and "is larger than 524288 bytes" in huge.text and 'class="code"' not in huge.text
    assert artifact_file_view(artifact=artifact, path="hangar.yaml").lines  # small text files are shown


def test_the_download_is_the_stored_zip(client_for, member, project, stored):
    old, _new = stored
    response = client_for(member).get(url("artifact_download", project, "0.1.0"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="sc-123-example-0.1.0.zip"'
    with old.file.open("rb") as stored_file:
        assert b"".join(response.streaming_content) == stored_file.read()


def test_the_starter_repository_download(client_for, member, project):
    response = client_for(member).get(url("artifact_starter", project))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="sc-123-example-starter.zip"'
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        hangar_yaml = next(name for name in archive.namelist() if name.endswith("/hangar.yaml"))
        assert "team: data-engine" in archive.read(hangar_yaml).decode()


# Two versions -------------------------------------------------------------------


def test_the_diff_shows_the_added_tables_module_block(client_for, member, project, stored):
    response = client_for(member).get(url("artifact_diff", project) + "?from=0.1.0&to=0.2.0")
    assert response.status_code == 200
    comparison = response.context["comparison"]
    diffs = {diff.path: diff for diff in comparison.terraform}
    assert set(diffs) == {
        f"infrastructure/{env}/{name}" for env in ("dev", "test", "prod") for name in ("main.tf", "outputs.tf")
    }
    main = diffs["infrastructure/dev/main.tf"]
    assert main.status == "changed" and main.removed == 0
    added = [line.text for line in main.lines if line.kind == "add"]
    assert added[:3] == ["", 'module "table_example_reports--events" {', '  source = "../../modules/local/table"']
    assert '<span class="d-add">+module &quot;table_example_reports--events&quot; {</span>' in response.text
    assert [diff.path for diff in comparison.sources] == [f"infrastructure/{env}/main.yaml" for env in ENVIRONMENTS]


def test_the_diff_shows_added_and_removed_files(client_for, member, project, upload):
    upload(project, member, "0.1.0", tables=())
    upload(project, member, "0.2.0")
    client = client_for(member)
    forward = {
        diff.path: diff for diff in client.get(url("artifact_diff", project) + "?from=0.1.0&to=0.2.0").context["diffs"]
    }
    assert forward["modules/local/table/main.tf"].status == "added"
    assert all(line.kind in ("file", "hunk", "add") for line in forward["modules/local/table/main.tf"].lines)
    backward = client.get(url("artifact_diff", project) + "?from=0.2.0&to=0.1.0")
    removed = {diff.path: diff for diff in backward.context["diffs"]}["modules/local/table/main.tf"]
    assert removed.status == "removed" and removed.added == 0 and removed.removed > 0
    assert '<span class="badge bad">removed</span>' in backward.text


def test_the_diff_defaults_to_the_two_newest_and_offers_every_version(client_for, member, project, stored):
    response = client_for(member).get(url("artifact_diff", project))
    assert response.context["old"].version == "0.1.0" and response.context["new"].version == "0.2.0"
    assert '<option value="0.2.0" selected>' in response.text and response.context["versions"] == ["0.2.0", "0.1.0"]


def test_the_same_version_twice_has_no_difference(client_for, member, project, stored):
    response = client_for(member).get(url("artifact_diff", project) + "?from=0.2.0&to=0.2.0")
    assert response.context["diffs"] == [] and "No difference in the Terraform" in response.text


def test_a_large_diff_is_cut_and_the_page_says_so(client_for, member, project, stored, monkeypatch):
    from deployments.artifacts import browse

    page = url("artifact_diff", project) + "?from=0.1.0&to=0.2.0"
    monkeypatch.setattr(browse, "DIFF_MAX_FILES", 2)
    response = client_for(member).get(page)
    comparison = response.context["comparison"]
    assert [diff.path for diff in comparison.sources] == [
        "infrastructure/dev/main.yaml",
        "infrastructure/test/main.yaml",
    ]
    assert comparison.terraform == [] and comparison.more_sources == 1 and comparison.more_terraform == 6
    assert len(response.context["diffs"]) == 2 and response.context["more_files"] == 7
    assert "9 files differ" in response.text
    assert (
        "… 7 more files not shown; download both versions" in response.text
        and "to compare them in full" in response.text
    )
    assert "Generated Terraform: 6 files changed" in response.text  # counted even when none is shown

    monkeypatch.setattr(browse, "DIFF_MAX_FILES", 4)  # the files left after the sources go to the Terraform
    comparison = client_for(member).get(page).context["comparison"]
    assert len(comparison.sources) == 3 and len(comparison.terraform) == 1 and comparison.more_terraform == 5

    monkeypatch.setattr(browse, "DIFF_MAX_FILES", 100)
    monkeypatch.setattr(browse, "DIFF_MAX_LINES", 3)
    response = client_for(member).get(page)
    [first] = response.context["diffs"]
    assert first.path == "infrastructure/dev/main.yaml"
    assert [line.kind for line in first.lines] == ["file", "file", "hunk"]
    assert first.added == 3 and first.more_lines > 0  # counts cover the whole file
    assert response.context["more_files"] == 8
    assert (
        f"… {first.more_lines} more lines not shown; download both versions to compare them in full." in response.text
    )


EVENTS_SCHEMA = json.dumps([{"name": "event_id", "type": "STRING", "mode": "REQUIRED"}], indent=2).encode()


@pytest.fixture
def edited(project, member, tmp_path, media):
    """0.2.0 adds the events table to every main.yaml, with a new schema file, and escapes nothing itself."""
    for version, options in (
        ("0.1.0", {}),
        (
            "0.2.0",
            {
                "tables": ("summary", "events"),
                "description": "<script>alert(1)</script>",
                "extra": {"events.json": EVENTS_SCHEMA},
            },
        ),
    ):
        artifact_upload(project=project, fileobj=io.BytesIO(build(tmp_path, version, **options)), user=member)


def test_the_diff_shows_what_people_edit_first_and_folds_the_generated_terraform(client_for, member, project, edited):
    response = client_for(member).get(url("artifact_diff", project) + "?from=0.1.0&to=0.2.0")
    assert response.status_code == 200
    comparison = response.context["comparison"]
    assert [diff.path for diff in comparison.sources] == [
        *(f"infrastructure/{env}/main.yaml" for env in ENVIRONMENTS),
        "infrastructure/bq_schemas/events.json",
    ]
    main = comparison.sources[0]
    assert main.status == "changed" and main.added > 0
    assert [line.text for line in main.lines[:2]] == [
        "--- 0.1.0/infrastructure/dev/main.yaml",
        "+++ 0.2.0/infrastructure/dev/main.yaml",
    ]
    assert main.lines[2].kind == "hunk" and re.fullmatch(r"@@ -\d+,\d+ \+\d+,\d+ @@", main.lines[2].text)
    assert {"ctx", "add", "del"} <= {line.kind for line in main.lines}  # the description line changed
    schema = comparison.sources[-1]
    lines = EVENTS_SCHEMA.decode().splitlines()
    assert schema.status == "added" and schema.added == len(lines) and schema.removed == 0
    assert [line.text for line in schema.lines[:3]] == [
        "--- /dev/null",
        "+++ 0.2.0/infrastructure/bq_schemas/events.json",
        f"@@ -0,0 +1,{len(lines)} @@",
    ]
    assert [line.text for line in schema.lines[3:]] == lines and {line.kind for line in schema.lines[3:]} == {"add"}
    assert all(is_terraform_file(diff.path) for diff in comparison.terraform) and len(comparison.terraform) == 6
    assert "metadata.yaml" not in [diff.path for diff in comparison.files]

    text = response.text
    details = text.index('<details class="generated-terraform">')
    assert text.index('<code class="file-path">infrastructure/dev/main.yaml</code>') < details
    assert text.index('<code class="file-path">infrastructure/bq_schemas/events.json</code>') < details
    assert details < text.index('<code class="file-path">infrastructure/dev/main.tf</code>')
    added = sum(diff.added for diff in comparison.terraform)
    removed = sum(diff.removed for diff in comparison.terraform)
    assert (
        f'<summary>Generated Terraform: 6 files changed (<span class="plus">+{added}</span> '
        f'<span class="minus">−{removed}</span>)</summary>'
    ) in text
    assert '<span class="d-hunk">@@ -0,0 +1,' in text and "<details open" not in text
    assert '<code class="file-path">metadata.yaml</code>' not in text
    for version in ("0.1.0", "0.2.0"):  # each side's build facts, from the manifests, in the header
        built_at = Artifact.objects.get(version=version).manifest["metadata"]["built_at"]
        assert f"built {built_at} by tests" in text


def test_the_diff_escapes_the_sources(client_for, member, project, edited):
    text = client_for(member).get(url("artifact_diff", project) + "?from=0.1.0&to=0.2.0").text
    assert "<script>alert(1)" not in text
    assert '<span class="d-add">+          description: &lt;script&gt;alert(1)&lt;/script&gt;</span>' in text


def test_a_member_of_another_team_cannot_compare(client_for, make_user, project, edited):
    from onboarding.models import Membership, Role, Team

    stranger = make_user("carol")
    other = Team.objects.create(slug="other-team", name="Other team")
    Membership.objects.create(team=other, user=stranger, role=Role.MEMBER)
    response = client_for(stranger).get(url("artifact_diff", project) + "?from=0.1.0&to=0.2.0")
    assert response.status_code == 404


def test_a_diff_with_an_unknown_version_is_404(client_for, member, project, stored):
    assert client_for(member).get(url("artifact_diff", project) + "?from=0.1.0&to=7.0.0").status_code == 404


# The highlighter ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        (
            "terraform",
            '# <script>x</script>\nresource "<b>" "y" {\n  a = "<i>" /* <p> */\n  b = <<EOT\n<img>\nEOT\n}\n',
        ),
        ("yaml", "<script>: \"<b>\"  # <i>\n- <p>: '<img>'\n"),
        ("json", '{"<script>": "<b>", "n": 1}'),
        (None, "<script>alert(1)</script>"),
    ],
)
def test_the_highlighter_escapes_every_kind_of_token(language, text):
    html = "\n".join(highlight(text, language))
    for tag in ("<script>", "<b>", "<i>", "<p>", "<img>"):
        assert tag not in html
    assert "&lt;" in html and html.count("\n") == text.rstrip("\n").count("\n")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("yaml", "a" + " " * VIEW_LIMIT),
        ("yaml", "- " * (VIEW_LIMIT // 2) + "x"),
        ("terraform", ("a" + " " * 1000) * (VIEW_LIMIT // 1001)),
        ("terraform", "a " + '"x" ' * (VIEW_LIMIT // 4)),
        ("terraform", "<<EOT\n" * (VIEW_LIMIT // 6)),
        ("json", '"a' * (VIEW_LIMIT // 2)),
    ],
)
def test_the_highlighter_stays_linear_on_hostile_input(language, text):
    started = time.monotonic()
    highlight(text, language)
    assert time.monotonic() - started < 5, "the tokenizer backtracks: a page this size would hang a worker"


def test_a_missing_stored_zip_is_reported_not_a_server_error(client_for, member, project, stored):
    old, _new = stored
    old.file.storage.delete(old.file.name)
    client = client_for(member)
    assert client.get(url("artifact_download", project, "0.1.0")).status_code == 404
    detail = client.get(url("artifact_detail", project, "0.1.0"))
    assert detail.status_code == 200 and detail.context["folders"][0].files[0].size is None
    file_page = client.get(url("artifact_file", project, "0.1.0", "hangar.yaml"))
    assert file_page.status_code == 200 and 'class="code"' not in file_page.text
