"""Reads of API tokens for the pages."""

from tokens.models import DEFAULT_EXPIRY_DAYS, EXPIRY_CHOICES, ApiToken, Kind, ProjectRole


def personal_tokens(user):
    return ApiToken.objects.filter(user=user, kind=Kind.PERSONAL).select_related("revoked_by").order_by("-created")


def project_tokens(project):
    return (
        ApiToken.objects.filter(project=project, kind=Kind.PROJECT)
        .select_related("created_by", "revoked_by")
        .order_by("-created")
    )


def project_token_context(project) -> dict:
    """What the Details tab's CI tokens section shows."""
    return {
        "ci_tokens": project_tokens(project),
        "token_roles": ProjectRole.choices,
        "expiry_choices": EXPIRY_CHOICES,
        "default_days": DEFAULT_EXPIRY_DAYS,
    }
