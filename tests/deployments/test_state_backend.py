"""The http state backend against the real Terraform CLI."""

import base64
import json
import subprocess
import uuid

import pytest
from django.conf import settings
from django.test import Client

from deployments.artifacts.models import Artifact
from deployments.runs import toolchain
from deployments.runs.choices import RunStatus
from deployments.runs.models import Deployment, Run
from deployments.state import services as state_backend
from deployments.state.models import StateVersion

pytestmark = [pytest.mark.terraform, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def deployment(project):
    return Deployment.objects.create(environment=project.environments.get(name="dev"), target="local")


@pytest.fixture
def make_run(deployment, lead):
    artifact = Artifact.objects.create(
        project=deployment.environment.project, version="0.1.0", version_key="x", sha256="0" * 64, size=1,
        file="artifacts/none.zip", manifest={},
    )  # fmt: skip

    def make(status=RunStatus.PLANNING):
        run = Run.objects.create(deployment=deployment, artifact=artifact, status=status, requested_by=lead)
        return run, state_backend.credential_mint(run=run)

    return make


def auth(credential) -> dict:
    token = base64.b64encode(f"{credential.username}:{credential.password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def terraform(workdir, credential, deployment, live_server, *args) -> subprocess.CompletedProcess:
    env = toolchain.terraform_env(
        workdir,
        extra=state_backend.backend_env(base_url=live_server.url, deployment_id=deployment.pk, credential=credential),
    )
    return subprocess.run(
        [settings.TERRAFORM_BINARY, *args, "-no-color"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "main.tf").write_text(
        'terraform {\n  backend "http" {}\n}\n\nvariable "greeting" {\n  default = "hello"\n}\n\n'
        'output "greeting" {\n  value = var.greeting\n}\n'
    )
    return tmp_path


def test_terraform_keeps_every_state_version_in_hangar(workdir, make_run, deployment, live_server):
    run, credential = make_run()
    assert terraform(workdir, credential, deployment, live_server, "init", "-input=false").returncode == 0
    first = terraform(workdir, credential, deployment, live_server, "apply", "-auto-approve", "-input=false")
    assert first.returncode == 0, first.stderr
    second = terraform(
        workdir, credential, deployment, live_server, "apply", "-auto-approve", "-input=false", "-var", "greeting=hi"
    )
    assert second.returncode == 0, second.stderr
    versions = list(StateVersion.objects.filter(deployment=deployment).order_by("id"))
    assert len(versions) == 2
    assert versions[0].serial < versions[1].serial and versions[0].lineage == versions[1].lineage
    assert json.loads(bytes(versions[1].data))["outputs"]["greeting"]["value"] == "hi"
    assert all(v.run_id == run.pk for v in versions)
    deployment.refresh_from_db()
    assert deployment.lock_id == ""  # Terraform unlocked after each apply


def test_a_competing_lock_gets_409_with_the_holders_info(workdir, make_run, deployment, live_server):
    _run, credential = make_run()
    holder = {"ID": str(uuid.uuid4()), "Operation": "OperationTypeApply", "Who": "someone@elsewhere",
              "Version": "1.0.3", "Created": "2026-11-21T10:00:00Z", "Info": "", "Path": ""}  # fmt: skip
    client = Client()
    assert client.generic("LOCK", f"/state/{deployment.pk}/", json.dumps(holder), **auth(credential)).status_code == 200
    competing = dict(holder, ID=str(uuid.uuid4()), Who="me@here")
    response = client.generic("LOCK", f"/state/{deployment.pk}/", json.dumps(competing), **auth(credential))
    assert response.status_code == 409
    assert response.json()["Who"] == "someone@elsewhere" and response.json()["ID"] == holder["ID"]

    assert terraform(workdir, credential, deployment, live_server, "init", "-input=false").returncode == 0
    blocked = terraform(workdir, credential, deployment, live_server, "plan", "-input=false", "-lock-timeout=0s")
    assert blocked.returncode != 0
    # Terraform 1.0 reads the holder's info from our 409 body and names its lock ID.
    assert "Error acquiring the state lock" in blocked.stderr and holder["ID"] in blocked.stderr, blocked.stderr

    # terraform force-unlock sends UNLOCK with no body.
    forced = terraform(workdir, credential, deployment, live_server, "force-unlock", "-force", holder["ID"])
    assert forced.returncode == 0, forced.stderr
    deployment.refresh_from_db()
    assert deployment.lock_id == ""
    assert terraform(workdir, credential, deployment, live_server, "plan", "-input=false").returncode == 0


def _state(serial: int, lineage: str = "lineage-a") -> bytes:
    return json.dumps({"version": 4, "serial": serial, "lineage": lineage, "outputs": {}, "resources": []}).encode()


def _locked(client, deployment, credential, lock_id="L1"):
    client.generic("LOCK", f"/state/{deployment.pk}/", json.dumps({"ID": lock_id}), **auth(credential))


def test_a_stale_serial_or_other_lineage_is_refused(make_run, deployment):
    _run, credential = make_run()
    client = Client()
    _locked(client, deployment, credential)
    url = f"/state/{deployment.pk}/?ID=L1"
    assert client.post(url, _state(3), content_type="application/json", **auth(credential)).status_code == 200
    stale = client.post(url, _state(2), content_type="application/json", **auth(credential))
    assert stale.status_code == 409 and b"does not move forward" in stale.content
    other = client.post(url, _state(4, "lineage-b"), content_type="application/json", **auth(credential))
    assert other.status_code == 409 and b"lineage" in other.content
    assert StateVersion.objects.filter(deployment=deployment).count() == 1


def test_a_write_without_the_lock_is_refused(make_run, deployment):
    _run, credential = make_run()
    client = Client()
    assert (
        client.post(
            f"/state/{deployment.pk}/", _state(1), content_type="application/json", **auth(credential)
        ).status_code
        == 423
    )
    _locked(client, deployment, credential, "L1")
    wrong = client.post(
        f"/state/{deployment.pk}/?ID=L2", _state(1), content_type="application/json", **auth(credential)
    )
    assert wrong.status_code == 409
    assert not StateVersion.objects.exists()


def test_wrong_expired_or_foreign_credentials_are_refused(make_run, deployment, project):
    run, credential = make_run()
    client = Client()
    url = f"/state/{deployment.pk}/"
    assert client.get(url).status_code == 401
    wrong = state_backend.RunCredential(username=credential.username, password="guess")
    assert client.get(url, **auth(wrong)).status_code == 403
    other = Deployment.objects.create(environment=project.environments.get(name="test"), target="local")
    assert client.get(f"/state/{other.pk}/", **auth(credential)).status_code == 403
    assert client.get(url, **auth(credential)).status_code == 204  # valid while the run is active
    Run.objects.filter(pk=run.pk).update(status=RunStatus.SUCCEEDED)
    assert client.get(url, **auth(credential)).status_code == 403  # expired with the run
    run2, credential2 = make_run()
    state_backend.credential_revoke(run=run2)
    assert client.get(url, **auth(credential2)).status_code == 403


def test_an_admin_force_unlock_is_audited(make_run, deployment, admin_user):
    from portal.models import AuditEvent

    _run, credential = make_run()
    _locked(Client(), deployment, credential, "held-lock")
    state_backend.state_force_unlock(deployment=deployment, user=admin_user)
    deployment.refresh_from_db()
    assert deployment.lock_id == ""
    event = AuditEvent.objects.get(action="state.force_unlock")
    assert event.actor == admin_user and event.details["lock"]["ID"] == "held-lock"


def test_a_state_larger_than_djangos_upload_limit_is_stored(make_run, deployment, settings):
    """Django refuses request.body above DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB); a state may be larger."""
    _run, credential = make_run()
    client = Client()
    _locked(client, deployment, credential)
    big = json.loads(_state(1))
    big["outputs"] = {"blob": {"value": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 512 * 1024), "type": "string"}}
    body = json.dumps(big).encode()
    response = client.post(f"/state/{deployment.pk}/?ID=L1", body, content_type="application/json", **auth(credential))
    assert response.status_code == 200, response.content[:200]
    stored = StateVersion.objects.get(deployment=deployment)
    assert stored.size == len(body) and bytes(stored.data) == body


def test_a_state_above_the_limit_gets_413_with_a_clear_message(make_run, deployment, monkeypatch):
    monkeypatch.setattr(state_backend, "MAX_STATE_BYTES", 1024)
    _run, credential = make_run()
    client = Client()
    _locked(client, deployment, credential)
    body = json.dumps(dict(json.loads(_state(1)), pad="y" * 2048)).encode()
    response = client.post(f"/state/{deployment.pk}/?ID=L1", body, content_type="application/json", **auth(credential))
    assert response.status_code == 413
    assert b"larger than the limit of 1024 bytes" in response.content
    assert not StateVersion.objects.exists()


def test_terraform_saves_a_state_of_several_mebibytes(tmp_path, make_run, deployment, live_server):
    (tmp_path / "main.tf").write_text(
        'terraform {\n  backend "http" {}\n}\n\noutput "blob" {\n  value = format("%-3500000s", "x")\n}\n'
    )
    _run, credential = make_run()
    assert terraform(tmp_path, credential, deployment, live_server, "init", "-input=false").returncode == 0
    applied = terraform(tmp_path, credential, deployment, live_server, "apply", "-auto-approve", "-input=false")
    assert applied.returncode == 0, applied.stderr
    version = StateVersion.objects.get(deployment=deployment)
    assert version.size > 3_500_000 and not (tmp_path / "errored.tfstate").exists()
