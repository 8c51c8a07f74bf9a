from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    name = "deployments"
    verbose_name = "Deployments: artifacts, runs and state"

    def ready(self) -> None:
        # Register the rooms' Celery tasks in every process (web too), so services can
        # hand work over by task name (deployments.runs.dispatch) without importing them.
        from deployments.drift import tasks as drift_tasks  # noqa: F401
        from deployments.drills import tasks as drill_tasks  # noqa: F401
        from deployments.plans import tasks as plan_tasks  # noqa: F401
        from deployments.runs import tasks  # noqa: F401
        from deployments.runs.signals import run_finished
        from deployments.sandboxes import services as sandboxes
        from deployments.sandboxes import tasks as sandbox_tasks  # noqa: F401

        run_finished.connect(sandboxes.on_run_finished, dispatch_uid="sandbox_destroy_finished")
