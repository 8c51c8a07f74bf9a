"""Drift in real Chromium, through a real worker, Terraform and the local cloud: the Health column leads to
the drift page, *Check now* finds a label changed outside Hangar and the page shows it, before → now."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from deployments.runs.services import run_start
from tests.deployments.conftest import *  # noqa: F403  (worker, web server and artifact fixtures)
from tests.deployments.conftest import session_cookie
from tests.deployments.helpers import wait_finished
from tests.localcloud_fixtures import localcloud_cli

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CHECK_TIMEOUT = 120_000  # ms: init and a refresh-only plan on a busy 2-core machine


def test_check_now_shows_a_label_changed_outside_hangar(browser, web, start_worker, upload, project, lead, member,
                                                        localcloud):  # fmt: skip
    start_worker()
    upload(project, lead, "0.1.0")
    run = wait_finished(run_start(project=project, environment="dev", target="local", version="0.1.0",
                                  operation="apply", user=lead), timeout=180)  # fmt: skip
    assert run.status == "succeeded", run.error
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "sessionid", "value": session_cookie(Client(), member), "url": web.url}])
    page = context.new_page()
    try:
        page.goto(f"{web.url}/projects/{project.slug}/deployments/")
        dev_row = page.locator("table.deployments tbody tr").filter(has_text="0.1.0")
        expect(dev_row.locator("td.health")).to_have_text(re.compile("Not checked yet", re.I))
        dev_row.locator("td.health a").click()
        page.wait_for_url(re.compile(r".*/deployments/dev/local/drift/$"))

        page.get_by_role("button", name="Check now").click()
        expect(page.locator("#drift-pending")).to_be_visible()
        # The page reloads itself when the check is done.
        expect(page.locator("#drift-health")).to_have_text(re.compile("In sync", re.I), timeout=CHECK_TIMEOUT)
        expect(page.get_by_text("Everything is as Hangar last applied version 0.1.0.")).to_be_visible()

        localcloud_cli("--url", localcloud.url, "set-label", "--project", "sc-123-example-dev", "dataset",
                       "example_reports", "cost_center=finance")  # fmt: skip
        page.get_by_role("button", name="Check now").click()
        expect(page.locator("#drift-health")).to_have_text(re.compile(r"Drifted \(1\)", re.I), timeout=CHECK_TIMEOUT)
        change = page.locator(".drift-resource").filter(has_text="example_reports")
        expect(change.locator("tbody tr")).to_have_text(
            re.compile(r"label cost_center added \(finance\)\s*—\s*finance")
        )
        expect(page.get_by_role("button", name="Reconcile")).to_be_visible()
        expect(page.locator("table tbody tr")).to_have_count(3)  # the change's row, and two checks in the history

        page.goto(f"{web.url}/projects/{project.slug}/deployments/")
        expect(dev_row.locator("td.health .badge")).to_have_text(re.compile(r"Drifted \(1\)", re.I))
    finally:
        context.close()
