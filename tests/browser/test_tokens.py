"""Browser test: a lead makes a personal token on the profile's Tokens page and a CI token on the
project's Details tab; each key is shown once, and revoking one shows it revoked."""

import os

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tokens.models import ApiToken

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = os.environ.get("HANGAR_SCREENSHOTS")  # a folder to keep screenshots in, when set


def shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_tokens_are_made_shown_once_and_revoked_in_the_pages(live_server, login, lead, project):
    page = login(lead, PASSWORD)
    page.get_by_role("link", name=lead.username).click()  # the profile
    page.get_by_role("link", name="Your API tokens").click()
    expect(page.get_by_role("heading", name="Tokens")).to_be_visible()
    page.get_by_label("Name").fill("laptop")
    page.get_by_label("Expires in").select_option("30")
    page.get_by_role("button", name="Create token").click()
    key = page.locator("#new-token-key").inner_text()
    assert key.startswith("hangar_") and ApiToken.objects.get(name="laptop").token_key == key[:15]
    shot(page, "profile-tokens")
    page.goto(f"{live_server.url}/profile/tokens/")
    expect(page.locator("#new-token-key")).to_have_count(0)  # never shown again
    expect(page.locator("#tokens")).to_contain_text("laptop")
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("#tokens")).to_contain_text("revoked")

    page.goto(f"{live_server.url}/projects/{project.slug}/details/")
    form = page.locator("#ci-token-form")
    form.get_by_label("Name").fill("gitlab")
    form.get_by_label("Role").select_option("member")
    form.get_by_role("button", name="Create CI token").click()
    expect(page.locator("#new-token-key")).to_contain_text("hangar_")
    expect(page.locator("#ci-token-table")).to_contain_text("gitlab")
    shot(page, "project-ci-tokens")
