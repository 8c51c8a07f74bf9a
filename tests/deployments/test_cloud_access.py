"""Each run reaches the local cloud with its own token, scoped to its environment's project."""

import pytest

from deployments.runs import cloud_access
from deployments.runs.choices import RunStatus
from deployments.runs.services import run_start
from tests.deployments.helpers import wait_finished


@pytest.mark.django_db
def test_a_run_may_change_its_environments_project_only(upload, project, lead, settings):
    upload(project, lead, "0.1.0")
    run = run_start(project=project, environment="prod", target="local", version="0.1.0", operation="plan", user=lead)
    assert cloud_access.run_cloud_projects(run) == ["sc-123-example-prod"]
    settings.RUN_TIME_LIMIT, settings.RUN_CANCEL_GRACE = 600, 20
    assert cloud_access.token_ttl_seconds() == 600 + 20 + cloud_access.TOKEN_MARGIN_SECONDS


@pytest.mark.django_db
def test_without_the_operator_token_a_run_gets_no_credentials_and_says_why(upload, project, lead, settings):
    upload(project, lead, "0.1.0")
    run = run_start(project=project, environment="dev", target="local", version="0.1.0", operation="plan", user=lead)
    settings.LOCALCLOUD_OPERATOR_TOKEN_FILE = settings.LOCALCLOUD_ROOT / "no-such-token"
    with pytest.raises(
        cloud_access.CloudAccessError, match=r"Could not get credentials for the local cloud: .*no-such-token"
    ):
        cloud_access.cloud_token_mint(run)


@pytest.mark.worker
@pytest.mark.terraform
@pytest.mark.django_db(transaction=True)
def test_the_runs_token_is_minted_for_it_and_revoked_when_it_ends(start_worker, upload, project, lead, localcloud):
    start_worker()
    upload(project, lead, "0.1.0")
    run = wait_finished(
        run_start(project=project, environment="dev", target="local", version="0.1.0", operation="apply", user=lead)
    )
    assert run.status == RunStatus.SUCCEEDED, run.error
    text = "\n".join(run.log_lines.values_list("message", flat=True))
    assert f"Local cloud token for run {run.pk}: may change sc-123-example-dev only." in text
    active = localcloud.client().request("GET", "tokens")
    assert f"run {run.pk}" not in [token["principal"] for token in active], "the run's token outlived the run"
