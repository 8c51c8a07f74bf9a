"""Browser test: the Deploy form's version follows the environment, and the artifact page's
"Deploy this version" preselects a version that then stays put."""

import pytest
from playwright.sync_api import expect

from deployments.runs import services as runs
from deployments.runs.choices import RunStatus
from tests.conftest import PASSWORD
from tests.deployments.conftest import media, upload  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_version_follows_the_environment_until_picked(live_server, login, lead, member, project, upload):  # noqa: F811
    for version in ("0.9.0", "0.10.0", "0.11.0-rc.1"):
        upload(project, lead, version)
    run = runs.run_start(
        project=project, environment="test", target="local", version="0.9.0", operation="apply", user=lead
    )
    runs.run_dispatch(deployment_id=run.deployment_id)
    runs.run_finish(run=runs.run_claim(run_id=run.pk, worker="w"), status=RunStatus.SUCCEEDED)

    page = login(member, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.slug}/deploy/")
    environment, version = page.locator("select[name=environment]"), page.locator("select[name=version]")
    expect(version).to_have_value("0.10.0")  # dev: nothing deployed, the newest release
    expect(version.locator("option[value='0.9.0']")).to_have_text("0.9.0 (deployed in test)")
    environment.select_option("test")
    expect(version).to_have_value("0.9.0")
    environment.select_option("prod")
    expect(version).to_have_value("0.10.0")
    version.select_option("0.11.0-rc.1")
    environment.select_option("test")
    expect(version).to_have_value("0.11.0-rc.1")  # picked by hand: stays

    page.goto(f"{live_server.url}/projects/{project.slug}/artifacts/0.9.0/")
    page.get_by_role("link", name="Deploy this version").click()
    expect(version).to_have_value("0.9.0")
    environment.select_option("prod")
    expect(version).to_have_value("0.9.0")
