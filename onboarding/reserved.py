"""Identities reserved for the shared Airflow platform (the Managed Shared Composer).

The platform team (`SHARED_COMPOSER_TEAM`) and its project `sc-<SHARED_COMPOSER_SERVICE_CONTROL_ID>-
<SHARED_COMPOSER_NAME>` are created by a migration (onboarding 0004) and by
`manage.py setup_shared_composer`, never through the pages or the API: whoever created them by hand
would lead the team that deploys into every member project. Leads of the platform team are named
only by `setup_shared_composer --lead` or by an existing platform lead. See docs/shared-composer.md.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.utils.text import slugify

RESERVED = "is reserved for the shared Airflow platform"


def platform_project_slug() -> str:
    return f"sc-{settings.SHARED_COMPOSER_SERVICE_CONTROL_ID}-{settings.SHARED_COMPOSER_NAME}"


def platform_team_name() -> str:
    return settings.SHARED_COMPOSER_TEAM


def platform_team_slug() -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", settings.SHARED_COMPOSER_TEAM.lower()).strip("-") or "platform"


def is_platform_project_slug(slug: str) -> bool:
    return slug == platform_project_slug()


def team_name_refusal(name: str) -> str | None:
    """Why a team may not be created with this name, or None."""
    reserved = {platform_team_slug(), slugify(platform_team_name())}
    if slugify(name) in reserved or name.strip().lower() == platform_team_name().lower():
        return (
            f"The team name {name.strip()!r} {RESERVED}; choose another name. The platform team is created by "
            "Hangar, and its leads are named with manage.py setup_shared_composer --lead or by a platform lead."
        )
    return None


def project_refusal(service_control_id: int, name: str) -> str | None:
    """Why a project may not be registered with this Service Control ID and name, or None."""
    if f"sc-{service_control_id}-{name}" == platform_project_slug():
        return (
            f"{platform_project_slug()} {RESERVED}; Hangar creates it itself (manage.py setup_shared_composer). "
            "Choose another Service Control ID or name; to use the shared Airflow, onboard your own project to it."
        )
    return None
