"""Celery tasks of plans: a thin entry point for speculative plans."""

from celery import shared_task

from deployments.plans import speculative


@shared_task(name=speculative.SPECULATIVE_PLAN, acks_late=True, ignore_result=True)
def speculative_plan(plan_id: int) -> None:
    speculative.speculative_execute(plan_id=plan_id)
