"""Celery task of recovery drills: a thin entry point."""

from celery import shared_task

from deployments.drills import services


@shared_task(name=services.RECOVERY_DRILL, acks_late=True, ignore_result=True)
def recovery_drill(drill_id: int) -> None:
    services.drill_execute(drill_id=drill_id)
