"""Planned runs parked for a person, made without a worker, for the confirmation rules' tests.

The plan is a small hand-written `terraform show -json`; the real flow (a worker plans, parks, and
applies the stored plan once confirmed) is covered end to end in test_deploy_e2e and the browser tests."""

from deployments.plans import services as plans
from deployments.plans.readable import readable_plan
from deployments.runs import services as runs

CREATE_PLAN = {
    "format_version": "0.2",
    "resource_changes": [
        {
            "address": "module.dataset_example_reports.localcloud_dataset.this",
            "module_address": "module.dataset_example_reports",
            "mode": "managed",
            "type": "localcloud_dataset",
            "name": "this",
            "change": {"actions": ["create"], "before": None, "after": {"description": "Reports"}},
        }
    ],
}
DELETE_PLAN = {
    "format_version": "0.2",
    "resource_changes": [
        {
            "address": "module.dataset_example_reports.localcloud_dataset.this",
            "module_address": "module.dataset_example_reports",
            "mode": "managed",
            "type": "localcloud_dataset",
            "name": "this",
            "change": {"actions": ["delete"], "before": {"description": "Reports"}, "after": None},
        }
    ],
}


def parked_run(project, user, environment="dev", *, plan_json=CREATE_PLAN, version="0.1.0", operation="apply"):
    """Queue a run, let a (pretend) worker claim it, store its plan and park it as a worker does."""
    run = runs.run_start(
        project=project, environment=environment, target="local", version=version, operation=operation, user=user
    )
    runs.run_dispatch(deployment_id=run.deployment_id)  # the task message is never sent: no commit in these tests
    run = runs.run_claim(run_id=run.pk, worker="test-host")
    assert run is not None, "the run should hold its deployment's slot"
    readable = readable_plan(plan_json)
    saved = plans.plan_store(run=run, data=b"binary plan", plan_json=plan_json, readable=readable, row_counts={})
    runs.run_transition(run=run, status="planned", note=readable.headline, to_add=readable.add,
                        to_change=readable.change, to_destroy=readable.destroy)  # fmt: skip
    reasons = runs.confirmation_reasons(run, destroys=saved.destroys) or ["test"]
    runs.run_park(run=run, reasons=reasons)
    run.refresh_from_db()
    return run
