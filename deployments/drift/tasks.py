"""Celery tasks of drift: thin entry points."""

from celery import shared_task

from deployments.drift import services


@shared_task(name=services.DRIFT_CHECK, acks_late=True, ignore_result=True)
def drift_check(check_id: int) -> None:
    services.drift_check_execute(check_id=check_id)


@shared_task(name="deployments.drift.sweep", ignore_result=True)
def drift_sweep() -> list[int]:
    return services.drift_sweep()
