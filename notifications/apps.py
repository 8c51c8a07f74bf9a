from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # The delivery task is registered in every process (web too): services queue it by name.
        from notifications import receivers, tasks  # noqa: F401

        receivers.connect()
