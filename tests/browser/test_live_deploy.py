"""DEPLOY in real Chromium against Hangar under uvicorn, with a real worker:
the log streams in while Terraform runs, and the page ends on the outcome."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from deployments.runs.models import LogLine, Run
from tests.deployments.conftest import *  # noqa: F403  (worker, web server and artifact fixtures)
from tests.deployments.conftest import session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def signed_in(page, web, user):
    page.context.add_cookies([{"name": "sessionid", "value": session_cookie(Client(), user), "url": web.url}])
    return page


def deploy_from_the_page(page, web, project, version="0.1.0"):
    page.goto(f"{web.url}/projects/{project.slug}/deploy/")
    page.get_by_label("Environment").select_option("dev")
    page.get_by_label("Version").select_option(version)
    page.get_by_role("button", name="DEPLOY").click()
    page.wait_for_url(re.compile(r".*/runs/\d+/$"))
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    return Run.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))


def test_the_log_and_resources_stream_in_and_the_page_ends_on_success(
    page, web, start_worker, worker_env, upload, project, lead
):
    worker_env["LOCALCLOUD_LATENCY_MS"] = "700"  # each change takes a moment, as in a real cloud
    start_worker()
    upload(project, lead, "0.1.0", tables=["summary", "details"])
    signed_in(page, web, lead)
    run = deploy_from_the_page(page, web, project)

    # A resource being applied is shown while Terraform is still working on it.
    expect(page.locator("#run-resources tr.res-applying").first).to_be_visible(timeout=60_000)
    run.refresh_from_db()
    assert not run.is_finished
    expect(page.locator("#log-lines .log-line").first).to_be_visible()

    expect(page.locator("#run-status")).to_have_text("Succeeded", timeout=120_000)
    expect(page.locator("#run-outputs table")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    assert page.evaluate("window.__sameDocument") is True
    shown = [int(s) for s in page.locator("#log-lines .log-line").evaluate_all("els => els.map(e => e.dataset.seq)")]
    assert shown == list(LogLine.objects.filter(run=run).order_by("seq").values_list("seq", flat=True))

    # The deployments table and the history show it.
    page.get_by_role("link", name=project.slug).first.click()
    row = page.locator("#deployments-table tbody tr", has_text="Development")
    expect(row).to_contain_text("0.1.0")
    expect(row).to_contain_text("Succeeded")
    expect(row).to_contain_text(lead.username)
    row.get_by_role("link", name="HISTORY").click()
    expect(page.get_by_role("link", name=f"#{run.pk}")).to_be_visible()


def test_a_web_server_restart_mid_run_loses_and_repeats_nothing(
    page, web, start_worker, worker_env, upload, project, lead
):
    worker_env["LOCALCLOUD_LATENCY_MS"] = "1500"
    start_worker()
    upload(project, lead, "0.1.0", tables=["summary", "details", "extra"])
    signed_in(page, web, lead)
    run = deploy_from_the_page(page, web, project)
    expect(page.locator("#log-lines .log-line").first).to_be_visible(timeout=60_000)

    run.refresh_from_db()
    assert not run.is_finished
    web.stop()  # the stream breaks; Terraform goes on writing lines nobody is streaming
    web.start()  # same port: the browser's EventSource reconnects with Last-Event-ID

    expect(page.locator("#run-status")).to_have_text("Succeeded", timeout=120_000)
    shown = [int(s) for s in page.locator("#log-lines .log-line").evaluate_all("els => els.map(e => e.dataset.seq)")]
    stored = list(LogLine.objects.filter(run=run).order_by("seq").values_list("seq", flat=True))
    assert shown == stored  # nothing missing, nothing twice
    assert page.evaluate("window.__sameDocument") is True
