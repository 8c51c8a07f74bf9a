"""Celery tasks: thin wrappers that load by id and call the plain functions."""

from celery import shared_task

from deployments import executor, runs


@shared_task(acks_late=True, ignore_result=True)
def execute_run(run_id: int) -> None:
    worker = getattr(execute_run.request, "hostname", None) or "worker"
    executor.run_execute(run_id=run_id, worker=worker)


@shared_task(ignore_result=True)
def reap_lost_runs() -> list[int]:
    return runs.reap_lost_runs()
