from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "onboarding"
    verbose_name = "Onboarding: teams and projects"

    def ready(self) -> None:
        from deployments.signals import run_finished
        from onboarding.receivers import shared_composer_run_finished

        run_finished.connect(shared_composer_run_finished, dispatch_uid="shared_composer_promotion")
