"""Review before change in real Chromium, through a real worker and real Terraform: a saved plan waits on
its run page for a person, who confirms it (exactly that plan is applied), discards it or plans again;
nobody confirming it lets it expire; a plan never changes what the deployments table says is deployed."""

import json
import re

import pytest
from django.db import transaction
from django.test import Client
from playwright.sync_api import expect

from deployments.runs.models import Deployment, Run
from deployments.runs.services import run_start
from deployments.state.services import _store_forward, state_current
from onboarding import services as onboarding
from onboarding.models import Role
from tests.deployments.conftest import *  # noqa: F403  (worker, web server and artifact fixtures)
from tests.deployments.conftest import session_cookie
from tests.deployments.helpers import wait_finished

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DEV_PROJECT = "sc-123-example-dev"
RUN_URL = re.compile(r".*/runs/(\d+)/$")
PLAN_TIMEOUT = 120_000  # ms: init and plan on a busy 2-core machine
APPLY_TIMEOUT = 120_000


def signed_in(page, web, user):
    page.context.add_cookies([{"name": "sessionid", "value": session_cookie(Client(), user), "url": web.url}])
    return page


@pytest.fixture
def page_for(browser, web):
    """A page in its own browser context (its own session) for each further user."""
    contexts = []

    def open_page(user):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return signed_in(context.new_page(), web, user)

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def second_lead(make_user, team, lead):
    user = make_user("carol")
    onboarding.team_set_member(team=team, user=user, role=Role.LEAD, by=lead)
    return user


def run_of(page) -> Run:
    return Run.objects.get(pk=int(RUN_URL.match(page.url)[1]))


def deploy_from_the_page(page, web, project, *, environment="dev", version="0.1.0", button="DEPLOY") -> Run:
    page.goto(f"{web.url}/projects/{project.slug}/deploy/")
    page.get_by_label("Environment").select_option(environment)
    page.get_by_label("Version").select_option(version)
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_url(RUN_URL)
    return run_of(page)


def deployed(project, user, version, environment="dev") -> Run:
    """A deploy that is only the test's starting point: queued directly, finished by the worker."""
    run = run_start(project=project, environment=environment, target="local", version=version, operation="apply",
                    user=user)  # fmt: skip
    run = wait_finished(run, timeout=180)
    assert run.status == "succeeded", run.error
    return run


def expect_parked(page):
    expect(page.locator("#run-status")).to_have_text("Planned", timeout=PLAN_TIMEOUT)
    expect(page.locator("#plan-waiting")).to_be_visible()
    expect(page.locator("#plan-readable-heading")).to_have_text("What this plan changes")


def test_a_prod_plan_waits_for_a_second_lead_who_approves_exactly_that_plan(
    page, page_for, web, start_worker, upload, project, lead, second_lead
):
    project.prod_requires_approval = True
    project.save(update_fields=["prod_requires_approval"])
    start_worker()
    upload(project, lead, "0.1.0")
    signed_in(page, web, lead)
    run = deploy_from_the_page(page, web, project, environment="prod")

    expect_parked(page)
    expect(page.locator("#plan-waiting")).to_contain_text("Waiting for approval")
    expect(page.locator(".plan-readable")).to_contain_text("example_reports.summary")
    expect(page.locator("#confirm-plan")).to_have_count(0)  # the requester cannot approve their own plan
    run.refresh_from_db()
    assert run.awaiting_confirmation and run.saved_plan.has_changes

    reviewer = page_for(second_lead)
    reviewer.goto(f"{web.url}{run.get_absolute_url()}")
    expect(reviewer.locator(".plan-readable")).to_contain_text("example_reports.summary")
    approve = reviewer.locator("#confirm-plan")
    expect(approve).to_have_text("Approve and apply")
    approve.click()
    expect(reviewer.locator(".message.success")).to_contain_text("is approved")

    for watcher in (reviewer, page):  # the requester's open page follows along too
        expect(watcher.locator("#log-lines")).to_contain_text("Applying the saved plan", timeout=APPLY_TIMEOUT)
        expect(watcher.locator("#run-status")).to_have_text("Succeeded", timeout=APPLY_TIMEOUT)
    expect(page.locator("#run-timeline")).to_contain_text("approved by carol")
    run.refresh_from_db()
    assert (run.approved_by, run.confirmed_by) == (second_lead, second_lead)


def test_a_rollback_that_drops_a_table_with_rows_waits_even_in_dev_and_warns_of_the_data_loss(
    page, web, start_worker, upload, project, lead, localcloud
):
    start_worker()
    upload(project, lead, "0.1.0", tables=["summary"], deletion_protection=False)
    upload(project, lead, "0.2.0", tables=["summary", "details"], deletion_protection=False)
    deployed(project, lead, "0.2.0")
    localcloud.client().query(
        DEV_PROJECT, "example_reports", "INSERT INTO details (dt, team) VALUES ('2024-01-01', 'a'), ('2024-01-02', 'b')"
    )

    signed_in(page, web, lead)
    run = deploy_from_the_page(page, web, project, version="0.1.0")
    expect_parked(page)
    expect(page.locator("#plan-waiting")).to_contain_text("Waiting for confirmation")
    warning = page.locator(".plan-warning-data_loss")
    expect(warning).to_contain_text("example_reports.details")
    expect(warning).to_contain_text("holding 2 rows")
    expect(page.locator("#confirm-plan")).to_have_text("Confirm and apply")
    run.refresh_from_db()
    assert run.to_destroy == 1 and run.saved_plan.destroys
    assert "destroys or replaces" in run.transitions.get(status="planned", note__startswith="waiting").note


def test_removing_a_protected_table_fails_at_plan_time_and_says_how(page, web, start_worker, upload, project, lead):
    start_worker()
    upload(project, lead, "0.1.0", tables=["summary"])
    upload(project, lead, "0.2.0", tables=["summary", "details"])
    deployed(project, lead, "0.2.0")

    signed_in(page, web, lead)
    run = deploy_from_the_page(page, web, project, version="0.1.0")
    expect(page.locator("#run-status")).to_have_text("Failed", timeout=PLAN_TIMEOUT)
    error = page.locator("#run-error")
    expect(error).to_contain_text("would delete protected tables")
    expect(error).to_contain_text("example_reports.details")
    expect(error).to_contain_text("deletion_protection")
    expect(page.locator("#confirm-plan")).to_have_count(0)
    run.refresh_from_db()
    assert not run.log_lines.filter(message__startswith="Applying the saved plan").exists()


def write_state_out_of_band(deployment_id: int) -> None:
    """The state moves on without this plan's run (an admin's push, another tool): same lineage, next serial."""
    with transaction.atomic():
        deployment = Deployment.objects.select_for_update().get(pk=deployment_id)
        state = json.loads(bytes(state_current(deployment_id=deployment_id).data))
        state["serial"] += 1
        _store_forward(deployment=deployment, body=json.dumps(state).encode(), serial=state["serial"],
                       lineage=state["lineage"], run=None)  # fmt: skip


def test_a_stale_plan_cannot_be_confirmed_and_is_planned_again(page, web, start_worker, upload, project, lead):
    start_worker()
    upload(project, lead, "0.1.0")
    signed_in(page, web, lead)
    run = deploy_from_the_page(page, web, project, environment="prod")
    expect_parked(page)

    write_state_out_of_band(run.deployment_id)
    # The page was open before the state changed: its button is refused, and the page says why.
    page.locator("#confirm-plan").click()
    expect(page.locator(".message.error")).to_contain_text("is stale")
    expect(page.locator("#plan-waiting")).to_contain_text("This plan is stale")
    expect(page.locator("#confirm-plan")).to_have_count(0)
    run.refresh_from_db()
    assert run.status == "planned"

    page.locator("#plan-again").click()
    page.wait_for_url(lambda url: RUN_URL.match(url) and not url.endswith(f"/runs/{run.pk}/"))
    fresh = run_of(page)
    expect(page.locator(".message.success")).to_contain_text(f"Planning 0.1.0 again as run #{fresh.pk}")
    expect_parked(page)  # the fresh plan is made against the current state
    expect(page.locator("#confirm-plan")).to_be_visible()
    run.refresh_from_db()
    assert run.status == "discarded"
    assert fresh.saved_plan.state_version == state_current(deployment_id=run.deployment_id)


def test_discarding_a_plan_frees_the_slot_for_the_run_queued_behind_it(page, web, start_worker, upload, project, lead):
    start_worker()
    upload(project, lead, "0.1.0")
    signed_in(page, web, lead)
    parked = deploy_from_the_page(page, web, project, environment="prod")
    expect_parked(page)

    behind_page = page.context.new_page()
    behind = deploy_from_the_page(behind_page, web, project, environment="prod")
    queue = behind_page.locator("#run-queue")
    expect(queue).to_contain_text(f"waiting for run #{parked.pk}, whose plan waits for a confirmation")
    expect(behind_page.locator("#run-status")).to_have_text("Queued")

    page.bring_to_front()
    page.locator("#discard-plan").click()
    expect(page.locator("#run-status")).to_have_text("Discarded")
    expect(page.locator("#run-actions button")).to_have_count(0)
    # The page that waited follows the queued run as it starts, and parks it in turn.
    expect(behind_page.locator("#run-status")).to_have_text("Planned", timeout=PLAN_TIMEOUT)
    behind.refresh_from_db()
    assert behind.deployment.active_run_id == behind.pk


def test_a_plan_nobody_confirms_expires(page, web, start_worker, worker_env, upload, project, lead):
    worker_env["PLAN_CONFIRM_TIMEOUT"] = "8"  # the worker parks with this deadline; its beat reaps after it
    start_worker(beat=True)  # RUN_REAPER_INTERVAL is 2 s in worker_env
    upload(project, lead, "0.1.0")
    signed_in(page, web, lead)
    run = deploy_from_the_page(page, web, project, environment="prod")
    expect_parked(page)

    expect(page.locator("#run-status")).to_have_text("Discarded", timeout=60_000)
    expect(page.locator("#run-timeline")).to_contain_text("expired: nobody confirmed the plan")
    expect(page.locator("#confirm-plan")).to_have_count(0)
    run.refresh_from_db()
    assert run.deployment.active_run_id is None
    assert not run.log_lines.filter(message__startswith="Applying the saved plan").exists()


def test_a_plan_by_someone_else_leaves_deployed_by_as_it_was(page, web, start_worker, upload, project, lead, member):
    start_worker()
    upload(project, lead, "0.1.0")
    upload(project, lead, "0.2.0", tables=["summary", "details"])
    deployed(project, lead, "0.1.0")

    signed_in(page, web, member)
    plan = deploy_from_the_page(page, web, project, version="0.2.0", button="Plan only")
    expect(page.locator("#run-status")).to_have_text("Succeeded", timeout=PLAN_TIMEOUT)
    expect(page.locator(".plan-readable")).to_contain_text("example_reports.details")
    plan.refresh_from_db()
    assert plan.operation == "plan" and plan.saved_plan.has_changes

    page.goto(f"{web.url}/projects/{project.slug}/deploy/")
    row = page.locator("#deployments-table tbody tr", has_text="Development")
    expect(row.locator("td").nth(2)).to_have_text("0.1.0")
    expect(row.locator("td").nth(3)).to_have_text(lead.username)
    expect(row.locator("td.last-run")).to_contain_text("Plan")  # the plan is the last run, not the deploy
