"""Handing work to Celery without importing the task modules.

Services decide what should run and call these after their transaction
commits; the tasks themselves live in each room's `tasks` module, which
imports the services. Tasks are looked up by name in Celery's registry
(the app's `ready()` imports every room's tasks), so eager mode, retries
and routing behave exactly as for a direct `task.apply_async`."""

from celery import current_app

EXECUTE_RUN = "deployments.tasks.execute_run"  # the name predates the rooms; queued messages still carry it


def send_task(name: str, *args, countdown: float = 0) -> str:
    """Queue task `name` with `args`, to start `countdown` seconds from now; returns its Celery task id
    ("" in eager mode without one)."""
    options = {"countdown": countdown} if countdown > 0 else {}
    result = current_app.tasks[name].apply_async(args=list(args), **options)
    return result.id or ""
