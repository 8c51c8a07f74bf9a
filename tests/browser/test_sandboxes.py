"""Sandboxes in real Chromium, through a real worker, Terraform and the local cloud: create one on the
Sandboxes tab (to its run's live log), extend it, destroy it."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from deployments.sandboxes.models import Sandbox
from tests.deployments.conftest import *  # noqa: F403  (worker, web server and artifact fixtures)
from tests.deployments.conftest import session_cookie, wait_for
from tests.deployments.helpers import localcloud_resources, wait_finished

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_create_extend_and_destroy_a_sandbox(browser, web, start_worker, upload, project, lead, member, localcloud):
    start_worker()
    upload(project, lead, "0.1.0")
    upload(project, lead, "0.2.0", description="Reports, v2")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "sessionid", "value": session_cookie(Client(), member), "url": web.url}])
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "Destroy sandbox …?"
    try:
        page.goto(f"{web.url}/projects/{project.slug}/sandboxes/")
        expect(page.get_by_text("No live sandbox.")).to_be_visible()
        page.get_by_label("Version").select_option("0.1.0")
        page.get_by_label("Definition").select_option("test")
        page.get_by_label("Lifetime (hours)").fill("5")
        page.get_by_role("button", name="Create sandbox").click()
        page.wait_for_url(re.compile(r".*/runs/\d+/$"))  # the apply's live log
        sandbox = Sandbox.objects.get()
        expect(
            page.get_by_text(f"Sandbox {sandbox.name} is being created in {sandbox.gcp_project_id}.")
        ).to_be_visible()
        assert wait_finished(sandbox.create_run, timeout=180).status == "succeeded"
        assert localcloud_resources(localcloud, sandbox.gcp_project_id)

        page.goto(f"{web.url}/projects/{project.slug}/sandboxes/")
        row = page.locator(f"#sandbox-{sandbox.pk}")
        expect(row).to_contain_text(sandbox.gcp_project_id)
        expect(row).to_contain_text("bob")
        expect(row).to_contain_text("0.1.0")
        expect(row.locator(".badge").first).to_have_text("Ready")
        expect(row.locator("td.expires")).to_have_text("expires in 5 h")  # 4 h 59 min …, rounded

        row.get_by_label(f"Hours to add to {sandbox.name}").fill("3")
        row.get_by_role("button", name="Extend").click()
        expect(page.get_by_text(f"Sandbox {sandbox.name} was extended by 3 h.")).to_be_visible()
        expect(page.locator(f"#sandbox-{sandbox.pk} td.expires")).to_have_text("expires in 8 h")

        page.locator(f"#sandbox-{sandbox.pk}").get_by_role("button", name="Destroy").click()
        page.wait_for_url(re.compile(r".*/runs/\d+/$"))
        sandbox.refresh_from_db()
        assert wait_finished(sandbox.destroy_run, timeout=180).status == "succeeded"
        wait_for(lambda: Sandbox.objects.get(pk=sandbox.pk).destroyed_at, timeout=30, message="the destroy recorded")
        page.goto(f"{web.url}/projects/{project.slug}/sandboxes/")
        expect(page.locator("#sandboxes-destroyed")).to_contain_text(sandbox.gcp_project_id)
        expect(page.get_by_text("No live sandbox.")).to_be_visible()
        assert localcloud_resources(localcloud, sandbox.gcp_project_id) == []
    finally:
        context.close()
