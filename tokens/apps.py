from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"
    verbose_name = "API tokens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        import tokens.schema  # noqa: F401  (registers the OpenAPI description of the token header)
