"""Celery tasks of sandboxes: beat's sweep."""

from celery import shared_task

from deployments.sandboxes import services


@shared_task(name="deployments.sandboxes.sweep", ignore_result=True)
def sandbox_sweep() -> dict:
    return services.sandbox_sweep()
