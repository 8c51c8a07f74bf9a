import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_registers_a_project_through_the_wizard(live_server, login, lead, team):
    page = login(lead, PASSWORD)
    page.get_by_role("link", name="Register a project").first.click()

    expect(page.get_by_text("If your GCP project name is sc-123-example-dev")).to_be_visible()
    page.get_by_label("Service Control Id").fill("SC-123")
    page.get_by_label("Project Name").fill("example")
    page.get_by_role("button", name="Next").click()

    expect(page.locator(".steps .current")).to_have_text("2 Confirmation")
    ids = page.locator("code.env-id")
    expect(ids).to_have_text(["sc-123-example-dev", "sc-123-example-test", "sc-123-example-prod"])
    page.get_by_role("button", name="Register").click()

    expect(page.locator(".steps .current")).to_have_text("3 Summary")
    expect(page.get_by_text("Project sc-123-example is registered")).to_be_visible()

    page.get_by_role("link", name="See all projects").click()
    page.get_by_label("Search projects").fill("example")
    expect(page.get_by_role("link", name="sc-123-example")).to_be_visible()
    page.get_by_role("link", name="sc-123-example").click()
    expect(page.get_by_role("heading", name="sc-123-example")).to_be_visible()
    expect(page.locator("code.env-id")).to_have_count(3)


def test_the_wizard_shows_errors_in_the_page(live_server, login, lead, team):
    page = login(lead, PASSWORD)
    page.goto(f"{live_server.url}/projects/register/")
    page.get_by_label("Service Control Id").fill("abc")
    page.get_by_label("Project Name").fill("Example_1")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#service_control_id-error")).to_contain_text("positive whole number")
    expect(page.locator("#name-error")).to_contain_text("lowercase letters, digits and hyphens")
