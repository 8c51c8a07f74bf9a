"""Celery tasks of runs: thin entry points that load by id and call the plain functions.

The task names predate the rooms and stay as they were, so messages already
queued, and Celery beat's schedule, keep finding them."""

from celery import shared_task
from celery.exceptions import Reject

from deployments.runs import dispatch, executor, services, shutdown


@shared_task(name=dispatch.EXECUTE_RUN, acks_late=True, ignore_result=True)
def execute_run(run_id: int) -> None:
    shutdown.install_child_handlers()  # SIGTERM drains this run instead of exiting mid-apply
    if shutdown.draining():
        # A worker shutting down takes no new run: back to the queue, for another worker.
        raise Reject(f"worker shutting down: run {run_id} is left to another worker", requeue=True)
    worker = getattr(execute_run.request, "hostname", None) or "worker"
    executor.run_execute(run_id=run_id, worker=worker)


@shared_task(name="deployments.tasks.reap_lost_runs", ignore_result=True)
def reap_lost_runs() -> list[int]:
    return services.reap_lost_runs()
