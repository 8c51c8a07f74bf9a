"""Browser test: a member uploads artifacts through the page, reads a file and compares versions."""

import pytest
from playwright.sync_api import expect

from deployments.artifacts import build_artifact
from tests.conftest import PASSWORD
from tests.deployments.conftest import media, write_project  # noqa: F401 - media: artifacts stored under tmp_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def built_zip(tmp_path, version: str, tables: list[str]):
    source = write_project(tmp_path / f"src-{version}", tables=tables)
    built = build_artifact(source_dir=source, version=version, project_slug="sc-123-example", builder="ci")
    path = tmp_path / built.filename
    path.write_bytes(built.content)
    return path


@pytest.mark.usefixtures("media")
def test_a_member_uploads_reads_and_compares_artifacts(live_server, login, member, project, tmp_path):
    page = login(member, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.slug}/")
    page.get_by_role("link", name="Artifacts").click()
    expect(page.get_by_text("No artifacts yet.")).to_be_visible()

    for version, tables in (("0.1.0", ["summary"]), ("0.2.0", ["summary", "events"])):
        page.get_by_label("Artifact zip").set_input_files(str(built_zip(tmp_path, version, tables)))
        page.get_by_role("button", name="Upload").click()
        expect(page.locator(".message.success")).to_contain_text(f"Uploaded version {version}")
        page.get_by_role("link", name="Artifacts", exact=True).first.click()

    versions = page.locator(".artifact-table tbody tr td:first-child")
    expect(versions).to_have_text(["0.2.0", "0.1.0"])

    page.get_by_role("link", name="0.2.0").click()
    expect(page.locator(".facts")).to_contain_text("ci")
    page.get_by_role("row", name="main.tf").first.get_by_role("link").click()  # infrastructure/dev/main.tf
    expect(page.locator("code.file-path")).to_have_text("infrastructure/dev/main.tf")
    expect(page.locator(".tok-block", has_text="module").first).to_be_visible()
    expect(page.locator("table.code")).to_contain_text('module "table_example_reports--events"')

    page.get_by_role("link", name="0.2.0").click()
    page.get_by_role("link", name="Changes since 0.1.0").click()
    expect(page.locator("#diff-from")).to_have_value("0.1.0")
    expect(page.locator("#diff-to")).to_have_value("0.2.0")
    # What people edit comes first; the generated Terraform is folded until opened.
    expect(page.locator(".file-diff").first).to_contain_text("infrastructure/dev/main.yaml")
    expect(page.locator(".d-add", has_text="- name: events").first).to_be_visible()
    generated = page.locator("details.generated-terraform")
    expect(generated.locator("summary")).to_contain_text("Generated Terraform: 6 files changed")
    module_block = page.locator(".d-add", has_text='module "table_example_reports--events"').first
    expect(module_block).to_be_hidden()
    generated.locator("summary").click()
    expect(module_block).to_be_visible()

    # The form compares any two versions: the other way round, the block is removed.
    page.locator("#diff-from").select_option("0.2.0")
    page.locator("#diff-to").select_option("0.1.0")
    page.get_by_role("button", name="Compare").click()
    expect(page.locator(".d-del", has_text="- name: events").first).to_be_visible()
    page.locator("details.generated-terraform summary").click()
    expect(page.locator(".d-del", has_text='module "table_example_reports--events"').first).to_be_visible()


@pytest.mark.usefixtures("media")
def test_a_very_long_line_in_a_diff_scrolls_inside_its_file(live_server, login, member, project, tmp_path):
    import io

    from deployments.artifacts.services import artifact_upload

    for version, description in (("0.1.0", "Reports"), ("0.2.0", "wide" * 600)):
        source = write_project(tmp_path / f"src-{version}", tables=["summary"], description=description)
        built = build_artifact(source_dir=source, version=version, project_slug=project.slug, builder="ci")
        artifact_upload(project=project, fileobj=io.BytesIO(built.content), user=member)
    page = login(member, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.slug}/artifacts/diff/?from=0.1.0&to=0.2.0")
    wide = page.locator(".d-add", has_text="widewide").first
    expect(wide).to_be_visible()
    widths = page.evaluate(
        "() => ({page: document.documentElement.scrollWidth, window: window.innerWidth,"
        " pre: document.querySelector('pre.diff').scrollWidth, box: document.querySelector('pre.diff').clientWidth})"
    )
    assert widths["page"] <= widths["window"], widths  # the page itself never scrolls sideways
    assert widths["pre"] > widths["box"], widths  # the file's own box does
