"""A run's credentials for the local cloud: a token valid only for the projects the run may touch.

As GCP authorises a deployer identity per project, the local cloud authorises every call with a
token. Hangar holds the operator token (LOCALCLOUD_OPERATOR_TOKEN_FILE) and, per run, mints one
for `run <id>` scoped to `run_cloud_projects(run)`, valid for the run's time limit plus a margin,
and revokes it when the run ends. Terraform in an artifact therefore cannot create, change or
even read another team's resources, whatever project id its configuration computes.
"""

import logging

from django.conf import settings

from localcloud import client
from localcloud.errors import LocalCloudError

log = logging.getLogger(__name__)
# A token outlives the run's time limit by the cancel grace and this much (clock skew, queueing).
TOKEN_MARGIN_SECONDS = 300


class CloudAccessError(Exception):
    """The local cloud would not give the run its credentials (unreachable, refused)."""


def run_cloud_projects(run) -> list[str]:
    """The local cloud projects `run` may touch: its environment's, and for the shared Airflow's
    platform project the member projects whose grants its definition manages in that stage."""
    from onboarding.shared_composer import services as shared_composer  # onboarding does not import runs back

    environment = run.deployment.environment
    projects = [environment.gcp_project_id]
    if shared_composer.is_platform_project(environment.project):
        projects += shared_composer.member_project_ids(stage=environment.name)
    return list(dict.fromkeys(projects))


def token_ttl_seconds() -> int:
    return int(settings.RUN_TIME_LIMIT) + int(settings.RUN_CANCEL_GRACE) + TOKEN_MARGIN_SECONDS


def cloud_token_mint(run) -> dict:
    """{"id", "token", ...}: the run's scoped token. Raises CloudAccessError with the reason."""
    try:
        return client.mint_token(
            f"run {run.pk}",
            run_cloud_projects(run),
            token_ttl_seconds(),
            url=settings.LOCALCLOUD_URL,
            token_file=settings.LOCALCLOUD_OPERATOR_TOKEN_FILE,
        )
    except LocalCloudError as error:
        raise CloudAccessError(f"Could not get credentials for the local cloud: {error.message}") from None


def cloud_token_revoke(token_id: str) -> None:
    """Revoke a run's token; a failure is logged, not raised (the token expires anyway)."""
    if not token_id:
        return
    try:
        client.revoke_token(token_id, url=settings.LOCALCLOUD_URL, token_file=settings.LOCALCLOUD_OPERATOR_TOKEN_FILE)
    except LocalCloudError as error:
        log.warning("could not revoke local cloud token %s: %s", token_id, error.message)
