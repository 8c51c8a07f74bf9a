"""The onboarding wizard in real Chromium: details, confirmation, and a summary that follows the dev run
live (htmx polling) and ends with the DAG snippet."""

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.terraform, pytest.mark.django_db(transaction=True)]


def test_a_lead_onboards_a_project_through_the_wizard(start_worker, policy, live_server, login, lead, project):
    start_worker()
    page = login(lead, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.slug}/")
    expect(page.locator("#shared-status")).to_contain_text("Not a member")
    page.get_by_role("link", name="Onboard to the shared Airflow").click()

    expect(page.locator(".steps .current")).to_have_text("1 Project details")
    expect(page.get_by_text("If your GCP project name is sc-123-example-dev")).to_be_visible()
    expect(page.get_by_label("Service Control Id")).to_have_value("123")
    expect(page.get_by_label("Project Name")).to_have_value("example")
    page.get_by_role("button", name="Next").click()

    expect(page.locator(".steps .current")).to_have_text("2 Confirmation")
    expect(page.locator("code.grant-account")).to_have_text(
        [f"bigdata-compute@sc-123-example-{env}.iam.gserviceaccount.com" for env in ("dev", "test", "prod")]
    )
    expect(page.locator("code.grant-dags").first).to_contain_text("/dags/sc-123-example/")
    expect(page.get_by_text("roles/composer.user").first).to_be_visible()
    page.get_by_role("button", name="Onboard").click()

    expect(page.locator(".steps .current")).to_have_text("3 Summary")
    dev = page.locator("tr.stage-dev .run-state")
    # The page itself is not reloaded: htmx polls the runs until dev has applied.
    expect(dev).to_have_attribute("data-status", "succeeded", timeout=240_000)
    expect(page.locator("tr.stage-test")).to_contain_text("waiting for approval")
    snippet = page.locator("#dag-snippet")
    expect(snippet).to_contain_text("gcp_project = f'sc-123-example-{env}'")
    expect(snippet).to_contain_text("gcp_service_account = f'bigdata-compute@{gcp_project}.iam.gserviceaccount.com'")
    expect(snippet).to_contain_text("'impersonation_chain': IMPERSONATION_CHAIN")

    page.get_by_role("link", name="Open sc-123-example").click()
    expect(page.locator("#shared-status")).to_contain_text("member since")
    expect(page.locator("#shared-status")).to_contain_text("dags/sc-123-example/")
