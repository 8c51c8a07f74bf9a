"""Celery tasks of runs: thin entry points that load by id and call the plain functions.

The task names predate the rooms and stay as they were, so messages already
queued, and Celery beat's schedule, keep finding them."""

from celery import shared_task

from deployments.runs import dispatch, executor, services


@shared_task(name=dispatch.EXECUTE_RUN, acks_late=True, ignore_result=True)
def execute_run(run_id: int) -> None:
    worker = getattr(execute_run.request, "hostname", None) or "worker"
    executor.run_execute(run_id=run_id, worker=worker)


@shared_task(name="deployments.tasks.reap_lost_runs", ignore_result=True)
def reap_lost_runs() -> list[int]:
    return services.reap_lost_runs()
