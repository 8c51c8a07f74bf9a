from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "onboarding"
    verbose_name = "Onboarding: teams and projects"

    def ready(self) -> None:
        from deployments.runs.signals import run_finished
        from onboarding.shared_composer.receivers import shared_composer_run_finished

        run_finished.connect(shared_composer_run_finished, dispatch_uid="shared_composer_promotion")
