"""Sandboxes without a worker: names, the cap, who may do what, lifetimes, the sweep's decisions, and the
fixed environments' pages and jobs, which keep ignoring sandboxes."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from deployments.artifacts.build import build_artifact
from deployments.artifacts.services import artifact_upload
from deployments.drills.services import drill_deployments
from deployments.pages.selectors import deployment_rows
from deployments.runs import dispatch
from deployments.runs.choices import Operation, RunStatus
from deployments.runs.models import Deployment, Run
from deployments.runs.services import run_finish, run_start
from deployments.runs.workspace import SANDBOX_OVERRIDE, environment_workdir
from deployments.sandboxes import services
from deployments.sandboxes.models import Sandbox
from deployments.sandboxes.selectors import expires_in_text, sandbox_status
from onboarding import services as onboarding
from onboarding.models import Environment, Role
from onboarding.naming import GCP_PROJECT_ID_MAX, SERVICE_CONTROL_ID_MAX, max_name_length, sandbox_gcp_project_id
from tests.deployments.conftest import write_project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_tasks(monkeypatch):
    sent = []
    monkeypatch.setattr(dispatch, "send_task", lambda name, *args, countdown=0: sent.append((name, args)) or "")
    return sent


@pytest.fixture
def version(upload, project, lead):
    return upload(project, lead, "0.1.0").version


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def create(project, user, version="0.1.0", **options) -> Sandbox:
    return services.sandbox_create(project=project, version=version, user=user, **options)


# -- names -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scid", [1, 123, 99999, SERVICE_CONTROL_ID_MAX])
def test_sandbox_ids_fit_the_longest_registrable_names(scid):
    name = ("a" + "b-c" * 20)[: max_name_length(scid)].rstrip("-")
    onboarding.validate_project_identity(scid, name)  # registrable
    seen = set()
    for number in (1, 9, 10, 99, 12345, 10**6, 10**9):
        project_id = sandbox_gcp_project_id(scid, name, number)
        assert len(project_id) <= GCP_PROJECT_ID_MAX, project_id
        assert project_id.endswith(f"-sbx{number}") and project_id.startswith(f"sc-{scid}-a")
        assert "--" not in project_id
        onboarding_ids = {f"sc-{scid}-{name}-{env}" for env in ("dev", "test", "prod")}
        assert project_id not in onboarding_ids and project_id not in seen
        seen.add(project_id)


def upload_as(project, user, version, tmp_path):
    """The conftest project folder, as the repository of `project`."""
    source = write_project(tmp_path / f"src-{project.slug}", tables=["summary"])
    (source / "hangar.yaml").write_text(
        f"service_control_id: {project.service_control_id}\nname: {project.name}\nteam: data-engine\n"
    )
    built = build_artifact(source_dir=source, version=version, project_slug=project.slug, builder="tests")
    return artifact_upload(project=project, fileobj=io.BytesIO(built.content), user=user)[0]


def test_longest_names_get_sandboxes_through_the_service(make_user, media, tmp_path):
    lead = make_user("lena")
    team = onboarding.team_create(name="Long Names", lead=lead)
    for scid in (7, SERVICE_CONTROL_ID_MAX):
        name = "x" * max_name_length(scid)
        project = onboarding.project_register(service_control_id=scid, name=name, team=team, user=lead)
        upload_as(project, lead, "1.0.0", tmp_path)
        sandbox = create(project, lead, version="1.0.0")
        assert len(sandbox.gcp_project_id) <= 30
        assert (
            sandbox.gcp_project_id
            == f"sc-{scid}-{name[: 30 - len(f'sc-{scid}-') - len(f'-sbx{sandbox.pk}')]}-sbx{sandbox.pk}"
        )
        assert Environment.all_objects.get(gcp_project_id=sandbox.gcp_project_id).kind == "sandbox"


def test_numbers_are_never_reused(project, lead, version, settings):
    settings.SANDBOX_MAX_PER_TEAM = 10
    first = create(project, lead)
    first.destroyed_at = timezone.now()
    first.save()
    second = create(project, lead)
    assert second.pk > first.pk and second.gcp_project_id != first.gcp_project_id
    assert {first.name, second.name} == {f"sbx-{first.pk}", f"sbx-{second.pk}"}


# -- creating --------------------------------------------------------------------------------------


def test_create_queues_an_apply_of_the_base_definition_in_the_own_project(project, member, version, no_tasks):
    sandbox = create(project, member, base_environment="test", ttl_hours=5)
    env = sandbox.environment
    assert (env.kind, env.base_name, env.definition, env.auto_apply) == ("sandbox", "test", "test", True)
    assert env.gcp_project_id == f"sc-123-example-sbx{sandbox.pk}"
    run = sandbox.create_run
    assert (run.operation, run.status, run.requested_by, run.auto_apply) == ("apply", "queued", member, True)
    assert run.deployment.environment == env and not run.approval_required
    assert abs((sandbox.expires_at - timezone.now()) - timedelta(hours=5)) < timedelta(seconds=30)
    assert expires_in_text(sandbox.expires_at) == "expires in 5 h"  # 4 h 59 min and some seconds, rounded
    assert sandbox_status(sandbox) == "creating"


def test_lifetime_defaults_and_bounds(project, lead, version, settings):
    settings.SANDBOX_MAX_PER_TEAM = 10
    sandbox = create(project, lead)
    assert abs((sandbox.expires_at - timezone.now()) - timedelta(seconds=settings.SANDBOX_DEFAULT_TTL)) < timedelta(
        seconds=30
    )
    for bad in (0, -1, "soon", 7 * 24 + 1, float("nan")):
        with pytest.raises(ValidationError) as refused:
            create(project, lead, ttl_hours=bad)
        assert "ttl_hours" in refused.value.message_dict
    create(project, lead, ttl_hours=7 * 24)  # exactly the most


def test_create_is_refused_for_unknown_versions_and_environments(project, lead, version):
    with pytest.raises(ValidationError, match="no artifact version"):
        create(project, lead, version="9.9.9")
    for base in ("sbx-1", "staging", ""):
        if base:
            with pytest.raises(ValidationError, match="not an environment"):
                create(project, lead, base_environment=base)
    assert Sandbox.objects.count() == 0 and Environment.all_objects.filter(kind="sandbox").count() == 0


def test_the_cap_is_per_team_and_lists_the_live_ones(project, lead, member, version, settings, make_user, tmp_path):
    settings.SANDBOX_MAX_PER_TEAM = 2
    first, second = create(project, lead), create(project, member)
    with pytest.raises(ValidationError) as refused:
        create(project, lead)
    message = " ".join(refused.value.messages)
    assert refused.value.code == "sandbox_limit"
    assert (
        f"{first.name} of sc-123-example (owner alice" in message
        and f"{second.name} of sc-123-example (owner bob" in message
    )
    # The API says the same, 409, with the list.
    response = api_for(lead).post(f"/api/projects/{project.slug}/sandboxes/", {"version": "0.1.0"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "sandbox_limit"
    assert first.name in response.json()["detail"][0]
    # Another team is not counted against this one.
    other_lead = make_user("olga")
    other = onboarding.project_register(
        service_control_id=5, name="other", team=onboarding.team_create(name="Other", lead=other_lead), user=other_lead
    )
    upload_as(other, other_lead, "0.1.0", tmp_path)
    create(other, other_lead)
    # A destroyed sandbox no longer counts.
    first.destroyed_at = timezone.now()
    first.save()
    assert create(project, lead).pk


# -- who may do what -------------------------------------------------------------------------------


def test_misuse_is_refused(project, lead, member, viewer, outsider, version, make_user):
    other_member = make_user("carol")
    onboarding.team_set_member(team=project.team, user=other_member, role=Role.MEMBER, by=lead)
    base = f"/api/projects/{project.slug}/sandboxes/"
    # A viewer watches: 403. Another team's user: 404, as everywhere.
    assert api_for(viewer).post(base, {"version": "0.1.0"}, format="json").status_code == 403
    assert api_for(outsider).post(base, {"version": "0.1.0"}, format="json").status_code == 404
    assert api_for(outsider).get(base).status_code == 404
    created = api_for(member).post(base, {"version": "0.1.0", "ttl_hours": 2}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert {"id", "name", "gcp_project_id", "expires_at", "run"} <= set(body)
    one = f"{base}{body['id']}/"
    assert api_for(viewer).get(one).json()["owner"] == "bob"
    assert api_for(outsider).get(one).status_code == 404
    assert api_for(outsider).delete(one).status_code == 404
    # Only the owner and the team's leads extend or destroy it.
    for user in (viewer, other_member):
        assert api_for(user).post(f"{one}extend/", {"hours": 1}, format="json").status_code == 403
        assert api_for(user).delete(one).status_code == 403
    assert api_for(member).post(f"{one}extend/", {"hours": 1}, format="json").status_code == 200
    assert api_for(lead).post(f"{one}extend/", {"hours": 1}, format="json").status_code == 200
    # A sandbox of another project cannot be reached through this one's address.
    assert api_for(member).get(f"/api/projects/{project.slug}/sandboxes/999999/").status_code == 404
    # A sandbox is not a target of the runs API or the Deploy tab: it is deployed through its own actions.
    response = api_for(lead).post(
        "/api/runs/",
        {"project": project.slug, "environment": body["name"], "target": "local", "version": "0.1.0"},
        format="json",
    )
    assert response.status_code == 400 and "not an environment" in str(response.json())
    destroyed = api_for(lead).delete(one)
    assert destroyed.status_code == 202 and destroyed.json()["status"] == "destroying"
    run = Run.objects.get(pk=destroyed.json()["run"])
    assert (run.operation, run.confirm_destroy, run.auto_apply, run.requested_by) == ("destroy", True, True, lead)
    # Asking again while it runs returns the same destroy.
    assert api_for(member).delete(one).json()["run"] == run.pk
    # A sandbox being destroyed is not extended.
    assert api_for(member).post(f"{one}extend/", {"hours": 1}, format="json").status_code == 400


def test_extend_is_bounded_by_the_longest_lifetime(project, lead, viewer, version, settings):
    sandbox = create(project, lead, ttl_hours=24)
    before = sandbox.expires_at
    sandbox = services.sandbox_extend(sandbox=sandbox, hours=2, user=lead)
    assert sandbox.expires_at - before == timedelta(hours=2)
    with pytest.raises(ValidationError, match="at most"):
        services.sandbox_extend(sandbox=sandbox, hours=7 * 24, user=lead)
    with pytest.raises(PermissionDenied):
        services.sandbox_extend(sandbox=sandbox, hours=1, user=viewer)


# -- the sweep ---------------------------------------------------------------------------------------


@pytest.fixture
def finish(django_capture_on_commit_callbacks):
    """End a run as a worker would; what happens on commit (run_finished: the sandbox's receiver) happens."""

    def end(run, status, error=""):
        run.refresh_from_db()
        Deployment.objects.filter(pk=run.deployment_id).update(active_run=run)
        with django_capture_on_commit_callbacks(execute=True):
            run_finish(run=run, status=status, error=error)

    return end


def test_sweep_destroys_expired_retries_failures_with_backoff_and_warns(
    project, lead, version, settings, monkeypatch, finish
):
    settings.SANDBOX_DESTROY_RETRY = [60, 300]
    monkeypatch.setattr(services, "cloud_leftovers", lambda sandbox: [])
    expiring = create(project, lead, ttl_hours=0.5)
    expired = create(project, lead, ttl_hours=1)
    later = create(project, lead, ttl_hours=5)
    now = timezone.now()
    Sandbox.objects.filter(pk=expired.pk).update(expires_at=now - timedelta(seconds=1))
    done = services.sandbox_sweep(now=now)
    assert done["expired"] == [expired.pk] and done["warned"] == [expiring.pk]
    expired.refresh_from_db()
    destroy = expired.destroy_run
    assert destroy.operation == Operation.DESTROY and destroy.requested_by is None and destroy.confirm_destroy
    assert "expired" in destroy.transitions.first().note
    assert sandbox_status(expired) == "destroying"
    # The destroy fails: Destroy failed, and the next attempt waits 60 s, then 300 s, then 300 s...
    finish(destroy, RunStatus.FAILED, "Error: dataset still contains tables")
    expired.refresh_from_db()
    assert expired.destroy_failed and sandbox_status(expired) == "destroy_failed"
    assert "still contains tables" in expired.destroy_error
    assert timedelta(seconds=55) < expired.next_destroy_at - timezone.now() <= timedelta(seconds=60)
    assert services.sandbox_sweep(now=now)["retried"] == []  # not before the backoff is over
    assert services.sandbox_sweep(now=expired.next_destroy_at)["retried"] == [expired.pk]
    expired.refresh_from_db()
    assert expired.destroy_attempts == 2 and expired.destroy_run != destroy
    assert sandbox_status(expired) == "destroying"  # retrying, still listed on Operations
    finish(expired.destroy_run, RunStatus.FAILED, "again")
    expired.refresh_from_db()
    assert timedelta(seconds=295) < expired.next_destroy_at - timezone.now() <= timedelta(seconds=300)
    services.sandbox_sweep(now=expired.next_destroy_at)
    expired.refresh_from_db()
    finish(expired.destroy_run, RunStatus.SUCCEEDED)
    expired.refresh_from_db()
    assert expired.destroyed_at and not expired.destroy_failed and sandbox_status(expired) == "destroyed"
    assert later.destroy_run is None and Sandbox.objects.get(pk=later.pk).warned_at is None


def test_a_destroy_that_leaves_something_behind_is_a_failed_destroy(project, lead, version, monkeypatch, finish):
    sandbox = create(project, lead)
    run = services.sandbox_destroy(sandbox=sandbox, user=lead)
    monkeypatch.setattr(services, "cloud_leftovers", lambda sandbox: ["table example_reports.manual"])
    finish(run, RunStatus.SUCCEEDED)
    sandbox.refresh_from_db()
    assert sandbox.destroy_failed and sandbox.destroyed_at is None
    assert "table example_reports.manual" in sandbox.destroy_error


# -- fixed environments are unchanged --------------------------------------------------------------


def test_fixed_environments_keep_ignoring_sandboxes(project, lead, version, client_for):
    sandbox = create(project, lead)
    Deployment.objects.filter(environment=sandbox.environment).update(deployed_artifact=sandbox.artifact)
    assert [e.name for e in project.environments.all()] == ["dev", "test", "prod"]
    assert {row.environment.name for row in deployment_rows(project=project)} == {"dev", "test", "prod"}
    assert sandbox.environment.deployments.get() not in drill_deployments()
    client = client_for(lead)
    deploy = client.get(f"/projects/{project.slug}/deploy/").content.decode()
    assert f'value="{sandbox.name}"' not in deploy
    with pytest.raises(ValidationError, match="not an environment"):
        run_start(
            project=project, environment=sandbox.name, target="local", version="0.1.0", operation="apply", user=lead
        )
    # Its row's history and state pages exist, and say where they belong.
    history = client.get(f"/projects/{project.slug}/deployments/{sandbox.name}/local/history/")
    assert history.status_code == 200 and sandbox.gcp_project_id in history.content.decode()
    assert "Redeploy" not in history.content.decode()
    assert client.get(f"/projects/{project.slug}/deployments/{sandbox.name}/local/state/").status_code == 200


def test_the_sandboxes_tab(project, lead, member, viewer, version, client_for, settings):
    sandbox = create(project, member, ttl_hours=5)
    page = client_for(lead).get(f"/projects/{project.slug}/sandboxes/").content.decode()
    assert sandbox.name in page and sandbox.gcp_project_id in page and "bob" in page and "0.1.0" in page
    assert "expires in 5 h" in page and "Create sandbox" in page and "Extend" in page and "Destroy" in page
    watching = client_for(viewer).get(f"/projects/{project.slug}/sandboxes/").content.decode()
    assert sandbox.name in watching and "Create sandbox" not in watching and "Extend</button>" not in watching
    # Within SANDBOX_WARN_BEFORE of its expiry the owner is warned on the page.
    Sandbox.objects.filter(pk=sandbox.pk).update(expires_at=timezone.now() + timedelta(minutes=40))
    page = client_for(member).get(f"/projects/{project.slug}/sandboxes/").content.decode()
    assert "⚠ expires in 40 min" in page
    # Create from the page: to the run's live log.
    response = client_for(lead).post(
        f"/projects/{project.slug}/sandboxes/", {"version": "0.1.0", "base_environment": "dev", "ttl_hours": "3"}
    )
    newest = Sandbox.objects.order_by("-id").first()
    assert response.status_code == 302 and response["Location"] == f"/runs/{newest.create_run_id}/"


def test_the_workdir_of_a_sandbox_points_the_definition_at_its_own_project(project, lead, version, tmp_path):
    sandbox = create(project, lead, base_environment="test")
    folder = tmp_path / "artifact" / "infrastructure" / "test"
    folder.mkdir(parents=True)
    (folder / "main.yaml").write_text("infrastructure: {}\n")
    (folder / "main.tf").write_text(
        'locals {\n  project_id = "sc-123-example-test"\n}\nmodule "table_example_reports--summary" {\n}\n'
    )
    assert environment_workdir(tmp_path / "artifact", sandbox.environment) == folder
    override = (folder / SANDBOX_OVERRIDE).read_text()
    assert f'project_id = "{sandbox.gcp_project_id}"' in override
    assert 'module "table_example_reports--summary" {\n  deletion_protection = false\n}' in override
    # A fixed environment's folder is left as it is.
    dev = tmp_path / "artifact" / "infrastructure" / "dev"
    dev.mkdir()
    assert environment_workdir(tmp_path / "artifact", project.environments.get(name="dev")) == dev
    assert not (dev / SANDBOX_OVERRIDE).exists()


def test_reconcile_of_a_sandbox_applies_its_own_version_again(project, lead, viewer, version, client_for, upload):
    upload(project, lead, "0.2.0")
    sandbox = create(project, lead)
    Deployment.objects.filter(environment=sandbox.environment).update(deployed_artifact=sandbox.artifact)
    address = f"/projects/{project.slug}/deployments/{sandbox.name}/local/redeploy/"
    response = client_for(lead).post(address, {"version": "0.2.0"})
    run = Run.objects.order_by("-id").first()
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.pk}/"
    assert (run.deployment.environment, run.artifact.version, run.operation) == (sandbox.environment, "0.1.0", "apply")
    client_for(viewer).post(address, {"version": "0.1.0"})
    assert Run.objects.order_by("-id").first() == run  # a viewer starts nothing


@pytest.mark.parametrize(
    "left, text",
    [
        (timedelta(hours=5), "expires in 5 h"),
        (timedelta(hours=4, minutes=59, seconds=50), "expires in 5 h"),
        (timedelta(minutes=59, seconds=1), "expires in 60 min"),
        (timedelta(seconds=5), "expires in 1 min"),
        (timedelta(days=6, hours=23), "expires in 7 days"),
        (-timedelta(minutes=3), "expired 3 min ago"),
    ],
)
def test_expires_in_text(left, text):
    now = timezone.now()
    assert expires_in_text(now + left, now) == text


def test_the_sandboxes_tab_and_api_cost_the_same_queries_however_many_sandboxes(
    project, lead, member, version, client_for, settings
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.SANDBOX_MAX_PER_TEAM = 100
    client, api = client_for(lead), api_for(member)

    def queries(get, url) -> int:
        get(url)  # warm: the session, caches
        with CaptureQueriesContext(connection) as captured:
            assert get(url).status_code == 200
        return len(captured)

    def add(count):
        for _ in range(count):
            sandbox = create(project, member)
            services.sandbox_destroy(sandbox=sandbox, user=lead)

    pages = (
        (client.get, f"/projects/{project.slug}/sandboxes/"),
        (api.get, f"/api/projects/{project.slug}/sandboxes/"),
        (client_for(member).get, f"/projects/{project.slug}/sandboxes/"),
    )
    add(2)
    before = [queries(get, url) for get, url in pages]
    add(6)
    assert [queries(get, url) for get, url in pages] == before


@pytest.mark.django_db(transaction=True)
def test_two_creations_at_once_cannot_both_take_the_last_place(project, lead, member, version, settings):
    import threading

    from django.db import connection

    settings.SANDBOX_MAX_PER_TEAM = 1
    barrier, outcomes = threading.Barrier(2), []

    def attempt(user):
        try:
            barrier.wait()
            outcomes.append(create(project, user).pk)
        except ValidationError as refused:
            outcomes.append(refused.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(user,)) for user in (lead, member)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes, key=str).count("sandbox_limit") == 1 and len(outcomes) == 2
    assert Sandbox.objects.count() == 1
