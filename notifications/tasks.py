"""Celery task of notifications: one delivery attempt, retried with exponential backoff."""

from celery import shared_task

from notifications import services


@shared_task(name=services.DELIVER, bind=True, acks_late=True, ignore_result=True, max_retries=None)
def deliver(self, delivery_id: int) -> None:
    outcome = services.delivery_attempt(delivery_id)
    if outcome.retry_in is not None:
        # WEBHOOK_MAX_ATTEMPTS bounds the attempts (delivery_attempt stops asking); Celery only waits.
        raise self.retry(countdown=outcome.retry_in)
