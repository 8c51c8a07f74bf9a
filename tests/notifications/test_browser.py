"""In real Chromium: a team lead adds a webhook on the Notifications tab, sees its secret once, sends a test,
and watches the delivery (made by a real Celery worker) arrive in the log."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.notifications.conftest import verify

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_lead_adds_a_webhook_sends_a_test_and_sees_the_delivery(live_server, login, notify_worker, receiver,
                                                                  project, lead, settings):  # fmt: skip
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on 127.0.0.1
    notify_worker()
    page = login(lead, PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.slug}/")
    page.get_by_role("link", name="Notifications").first.click()
    expect(page.get_by_text("No destinations yet.")).to_be_visible()

    page.get_by_label("Kind").select_option("webhook")
    page.get_by_label("Name", exact=True).fill("Pipeline hook")
    page.get_by_label("Address", exact=True).fill(receiver.url)
    expect(page.get_by_label("Run failed")).to_be_checked()  # the defaults: every event
    page.get_by_label("Run succeeded", exact=True).uncheck()
    page.get_by_role("button", name="Add destination").click()

    expect(page.get_by_role("heading", name="Pipeline hook")).to_be_visible()
    secret = page.locator("#destination-secret code.secret").inner_text()
    assert secret.startswith("whsec_")
    expect(page.get_by_text("http://127.0.0.1:")).to_be_visible()

    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_text("Test sent")).to_be_visible()
    expect(page.locator("#destination-secret")).to_have_count(0)  # shown once
    row = page.locator("tr.delivery").first
    expect(row).to_contain_text("destination.test")
    # The log refreshes itself until the worker has delivered it.
    expect(row.locator(".badge")).to_have_text(re.compile("Delivered", re.I), timeout=30_000)
    expect(row.locator(".attempt")).to_contain_text(re.compile(r"200 · \d+ ms"))
    [received] = receiver.requests
    assert verify(secret, received.headers["x-hangar-signature"], received.body)
    assert received.json()["event"] == "destination.test"
