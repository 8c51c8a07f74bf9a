"""The installed `hangar` against a live Hangar: uvicorn, a Celery worker on Redis, real Terraform."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deployments.runs.models import Run
from onboarding import services as onboarding
from tests.cli.test_local import write_repository
from tokens.models import ApiToken
from tokens.services import create_personal_token, create_project_token

pytestmark = [pytest.mark.worker, pytest.mark.terraform, pytest.mark.django_db(transaction=True)]

# Plain Terraform whose plan fails: a required variable nobody sets.
FAILING_PLAN = {
    "infrastructure/dev/main.tf": b'variable "required_but_missing" {\n  type = string\n}\n',
}


@pytest.fixture
def as_lead(hangar, web, lead, project):
    _, key = create_personal_token(user=lead, name="cli tests", by=lead)

    def run(*args, **options):
        env = {"HANGAR_URL": web.url, "HANGAR_TOKEN": key, **options.pop("env", {})}
        return hangar(*args, env=env, **options)

    return run


def test_upload_then_deploy_wait_follows_the_log_and_exits_0_then_1_on_a_failing_plan(
    as_lead, start_worker, tmp_path, project
):
    start_worker()
    write_repository(tmp_path / "repo")
    assert as_lead("build", "repo", "--version", "0.1.0", "--builder", "tests")[0] == 0
    code, out, err = as_lead("upload", "repo/dist/sc-123-example-0.1.0.zip")
    assert (code, out.strip()) == (0, "Uploaded sc-123-example 0.1.0"), err
    code, out, _ = as_lead("upload", "repo/dist/sc-123-example-0.1.0.zip")
    assert code == 0 and "identical to the stored version" in out

    code, out, err = as_lead(
        "deploy", "--env", "dev", "--version", "0.1.0", "--wait", "--dir", "repo", env={"HANGAR_PROGRESS_SECONDS": "1"}
    )
    assert code == 0, out + err
    run = Run.objects.get()
    assert out.startswith(f"Run #{run.pk}: apply of 0.1.0 on sc-123-example dev: http://127.0.0.1:")
    assert "Apply complete!" in out  # Terraform's own log, followed as it was written
    # The progress line while Terraform is quiet depends on how fast this machine is: test_follow.py shows it.
    assert any(line.startswith(f"run #{run.pk} apply of 0.1.0 on dev: succeeded (+") for line in out.splitlines())
    assert '"table_id": "example"' in out.splitlines()[-1]  # the outputs come last
    assert run.status == "succeeded" and run.requested_by.username == "alice"

    code, out, _ = as_lead("runs", "--project", project.slug)
    assert code == 0 and f"{run.pk}  sc-123-example" in out and "succeeded" in out and "alice" in out
    code, out, _ = as_lead("logs", str(run.pk))
    assert code == 0 and "Apply complete!" in out

    # A version whose plan fails: exit 1, with Terraform's error in the log.
    repository = write_repository(tmp_path / "broken", files=FAILING_PLAN)
    (repository / "infrastructure" / "dev" / "main.yaml").unlink()
    assert as_lead("build", "broken", "--version", "0.2.0")[0] == 0
    assert as_lead("upload", "broken/dist/sc-123-example-0.2.0.zip")[0] == 0
    code, out, err = as_lead("plan", "--env", "dev", "--version", "0.2.0", "--project", project.slug, "--wait")
    assert code == 1, out + err
    assert "No value for required variable" in out and ": failed" in out
    assert "error:" in err


def test_a_prod_run_that_waits_for_approval_exits_3_with_its_url(as_lead, start_worker, tmp_path, project, lead, web):
    start_worker()
    onboarding.project_set_prod_approval(project=project, required=True, user=lead)
    write_repository(tmp_path / "repo")
    assert as_lead("build", "repo", "--version", "0.1.0")[0] == 0
    assert as_lead("upload", "repo/dist/sc-123-example-0.1.0.zip")[0] == 0
    code, out, err = as_lead("deploy", "--env", "prod", "--version", "0.1.0", "--wait", "--dir", "repo")
    assert code == 3, out + err
    run = Run.objects.get()
    assert f"Run #{run.pk} waits for a second team lead's approval" in err
    assert f"{web.url}/runs/{run.pk}/" in err
    # Cancelling it discards the waiting plan.
    code, out, _ = as_lead("cancel", str(run.pk))
    assert code == 0 and "discarded" in out
    run.refresh_from_db()
    assert run.status == "discarded"
    # Bad usage of a run: an unknown version is 2, with Hangar's reason.
    code, _, err = as_lead("deploy", "--env", "dev", "--version", "9.9.9", "--dir", "repo")
    assert code == 2 and "9.9.9" in err


def test_a_ci_token_of_one_project_gets_404_on_another_and_an_expired_token_401(
    hangar, web, lead, team, project, tmp_path
):
    other = onboarding.project_register(service_control_id=124, name="other", team=team, user=lead)
    token, key = create_project_token(project=project, name="pipeline", role="member", by=lead)
    env = {"HANGAR_URL": web.url, "HANGAR_TOKEN": key}
    write_repository(tmp_path / "repo")
    assert hangar("build", "repo", "--version", "0.1.0")[0] == 0
    code, out, err = hangar("upload", "repo/dist/sc-123-example-0.1.0.zip", "--project", other.slug, env=env)
    assert code == 1 and "(404)" in err, out + err
    code, out, err = hangar("upload", "repo/dist/sc-123-example-0.1.0.zip", env=env)
    assert code == 0, out + err
    code, out, _ = hangar("runs", "--all", env=env)
    assert code == 0 and out.strip() == "no runs"
    code, out, _ = hangar("config", "--check", env=env)
    assert code == 0 and "CI token pipeline (created by alice)" in out

    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    code, out, err = hangar("upload", "repo/dist/sc-123-example-0.1.0.zip", env=env)
    assert code == 1 and "This token ('pipeline') expired on" in err and "(401)" in err

    # `hangar login` checks a token before keeping it.
    _, personal = create_personal_token(user=lead, name="laptop", by=lead)
    code, out, err = hangar("login", "--url", web.url, "--token-stdin", env={}, input=personal + "\n")
    assert code == 0 and "as alice (token laptop" in out, err
    code, out, _ = hangar("runs", "--all")  # from the file `login` wrote
    assert code == 0 and out.strip() == "no runs"


def test_a_sandbox_from_the_command_line_for_ci(as_lead, start_worker, tmp_path, project, localcloud):
    """What a CI job does: create a sandbox and wait for it, read its outputs as JSON, delete it and wait."""
    import json

    from tests.deployments.helpers import localcloud_resources

    start_worker()
    write_repository(tmp_path / "repo")
    assert as_lead("build", "repo", "--version", "0.1.0", "--builder", "tests")[0] == 0
    assert as_lead("upload", "repo/dist/sc-123-example-0.1.0.zip")[0] == 0

    code, out, err = as_lead("sandbox", "create", "--version", "0.1.0", "--ttl", "2", "--wait", "--json",
                             "--dir", "repo")  # fmt: skip
    assert code == 0, out + err
    sandbox = json.loads(out)  # only the sandbox on standard output: the log went to standard error
    assert sandbox["status"] == "ready" and sandbox["version"] == "0.1.0"
    assert sandbox["gcp_project_id"].startswith("sc-123-example-sbx")
    assert "Apply complete!" in err
    assert localcloud_resources(localcloud, sandbox["gcp_project_id"])  # it holds what dev's definition makes

    code, out, _ = as_lead("sandbox", "list", "--project", project.slug)
    assert code == 0 and sandbox["name"] in out and "ready" in out
    code, out, _ = as_lead("sandbox", "extend", str(sandbox["id"]), "--hours", "3", "--project", project.slug)
    assert code == 0 and "now expires at" in out

    code, out, err = as_lead("sandbox", "delete", str(sandbox["id"]), "--wait", "--project", project.slug)
    assert code == 0, out + err
    assert "destroyed" in out
    assert localcloud_resources(localcloud, sandbox["gcp_project_id"]) == []
    code, _, err = as_lead("sandbox", "delete", str(sandbox["id"]), "--project", project.slug)
    assert code == 1 and "(409)" in err  # already destroyed
    code, _, err = as_lead("sandbox", "create", "--version", "9.9.9", "--project", project.slug)
    assert code == 2 and "9.9.9" in err
