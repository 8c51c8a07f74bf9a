"""The wizard through the test client, the project section, the shared page, adoption and DAG guardrails."""

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from onboarding.models import Project, SharedDagDeploy, SharedMembership
from onboarding.shared_composer.services import shared_dags_deploy, shared_onboard

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local(shared_settings):
    return shared_settings


def test_the_wizard_registers_a_project_on_the_way(client_for, lead, team):
    client = client_for(lead)
    response = client.post("/shared-composer/onboard/", {"service_control_id": "SC-77", "name": "reports", "team": ""})
    assert "sc-77-reports is not registered in Hangar yet" in response.content.decode()
    response = client.post(
        "/shared-composer/onboard/", {"service_control_id": "SC-77", "name": "reports", "team": team.slug}
    )
    assert response.status_code == 302 and response["Location"] == "/shared-composer/onboard/confirm/"
    page = client.get("/shared-composer/onboard/confirm/").content.decode()
    assert "Hangar registers it for team" in page
    for text in (
        "bigdata-compute@sc-77-reports-dev.iam.gserviceaccount.com",
        "serviceAccount:bigdata-scheduler@sc-1-msc-prod.iam.gserviceaccount.com",
        "roles/iam.serviceAccountTokenCreator",
        "/dags/sc-77-reports/",
        "roles/composer.user",
        "group:data-engine@groups.hangar.local",
    ):
        assert text in page
    token = client.session["shared_wizard"]["token"]
    response = client.post("/shared-composer/onboard/confirm/", {"token": token})
    project = Project.objects.get(slug="sc-77-reports")
    change = project.shared_memberships.get().changes.get()
    assert response["Location"] == f"/shared-composer/changes/{change.pk}/"
    # A second submit of the same confirmation changes nothing.
    again = client.post("/shared-composer/onboard/confirm/", {"token": token})
    assert again["Location"] == response["Location"] and SharedMembership.objects.count() == 1

    summary = client.get(response["Location"]).content.decode()
    assert "3</span> Summary" in summary and 'hx-trigger="every 1500ms"' in summary
    assert "gcp_project = f&#x27;sc-77-reports-{env}&#x27;" in summary
    assert "&#x27;impersonation_chain&#x27;: IMPERSONATION_CHAIN" in summary
    runs = client.get(f"/shared-composer/changes/{change.pk}/runs/").content.decode()
    assert "Queued" in runs and "waiting for approval" not in runs


def test_project_page_and_shared_page_show_the_membership(client_for, project, lead, admin_user, make_user):
    shared_onboard(project=project, user=lead)
    SharedMembership.objects.update(state="active", joined_at="2025-01-02T10:00:00Z")
    page = client_for(lead).get(f"/projects/{project.slug}/").content.decode()
    assert "Shared Airflow: member since 2025-01-02, DAG folder <code>dags/sc-123-example/</code>" in page
    assert "Leave the shared Airflow" in page
    shared_page = client_for(lead).get("/shared-composer/").content.decode()
    assert "sc-123-example" in shared_page and "Onboarding" in shared_page
    # Another team's user sees neither the member nor its DAG folder, only that others exist.
    stranger_page = client_for(make_user("sam")).get("/shared-composer/").content.decode()
    assert "sc-123-example" not in stranger_page and "1 other member project" in stranger_page


def test_adoption_is_for_admins(client_for, project, lead, admin_user):
    shared_onboard(project=project, user=lead)
    SharedMembership.objects.update(state="active", joined_at="2025-01-02T10:00:00Z")
    assert client_for(lead).get("/shared-composer/adoption/").status_code == 404
    page = client_for(admin_user).get("/shared-composer/adoption/").content.decode()
    assert page.count("<svg") == 4 and '<strong id="members-now">1</strong>' in page
    assert "cumulative saved maintenance hours" in page


@pytest.fixture
def deployed_member(project, lead, localcloud):
    shared_onboard(project=project, user=lead)
    SharedMembership.objects.update(state="active")
    localcloud.client().create_environment("sc-1-msc-dev", "msc", {"image_version": "composer-2.9.7-airflow-2.9.3"})
    return project


def test_dags_go_only_into_the_members_folder(deployed_member, lead, member, outsider, localcloud, settings):
    dags = {"daily.py": b"# a DAG\n", "weekly.py": b"# another\n"}
    deploy = shared_dags_deploy(project=deployed_member, user=member, stage="dev", files=dags)
    folder = localcloud.client().get_environment("sc-1-msc-dev", "msc")["dag_path"]
    assert sorted(p.name for p in Path(folder).joinpath("sc-123-example").iterdir()) == [
        "daily.py",
        "weekly.py",
    ]
    assert deploy.file_count == 2
    for name in ("../other/evil.py", "sc-9-other/evil.py", ".hidden.py", "notes.txt"):
        with pytest.raises(ValidationError, match="is not a DAG file name"):
            shared_dags_deploy(project=deployed_member, user=member, stage="dev", files={name: b"x"})
    with pytest.raises(PermissionDenied):
        shared_dags_deploy(project=deployed_member, user=outsider, stage="dev", files=dags)
    settings.SHARED_COMPOSER_DAG_LIMIT = 1
    with pytest.raises(ValidationError, match="at most 1 in its folder"):
        shared_dags_deploy(project=deployed_member, user=member, stage="dev", files=dags)
    settings.SHARED_COMPOSER_DAG_LIMIT, settings.SHARED_COMPOSER_DAG_MAX_BYTES = 50, 10
    with pytest.raises(ValidationError, match="at most 10 bytes"):
        shared_dags_deploy(project=deployed_member, user=member, stage="dev", files=dags)
    assert SharedDagDeploy.objects.count() == 1


# The upload page: who may deploy is checked first, and the body is read within the limits ------------


@pytest.fixture
def parsed(monkeypatch):
    """What Django's multipart parser held for each request it parsed: {field: [sizes]}."""
    from django.http import multipartparser

    seen = []
    original = multipartparser.MultiPartParser.parse

    def parse(self):
        post, files = original(self)
        seen.append({name: [upload.size for upload in files.getlist(name)] for name in files})
        return post, files

    monkeypatch.setattr(multipartparser.MultiPartParser, "parse", parse)
    return seen


def _upload(client, project, files, stage="dev"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    uploads = [SimpleUploadedFile(name, data, content_type="text/x-python") for name, data in files.items()]
    return client.post(f"/projects/{project.slug}/shared-composer/dags/", {"stage": stage, "dags": uploads})


def _messages(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


def test_the_upload_page_checks_permission_before_reading_the_files(deployed_member, client_for, viewer, parsed):
    response = _upload(client_for(viewer), deployed_member, {"daily.py": b"# a DAG\n"})
    assert response.status_code == 302 and "can deploy DAGs" in " ".join(_messages(response))
    assert parsed == []  # the body was never parsed


def test_the_upload_page_stops_reading_at_the_limits(deployed_member, client_for, member, parsed, settings):
    client = client_for(member)
    settings.SHARED_COMPOSER_DAG_LIMIT, settings.SHARED_COMPOSER_DAG_MAX_BYTES = 50, 10
    response = _upload(client, deployed_member, {f"d{i}.py": b"#" * 20_000 for i in range(3)})
    assert "More than 10 bytes of DAGs" in " ".join(_messages(response))
    assert sum(sum(sizes) for sizes in parsed[-1].values()) <= 10  # never more than the limit held

    settings.SHARED_COMPOSER_DAG_LIMIT, settings.SHARED_COMPOSER_DAG_MAX_BYTES = 2, 1000
    response = _upload(client, deployed_member, {f"d{i}.py": b"# x\n" for i in range(3)})
    assert "More than 2 DAG files" in " ".join(_messages(response))
    assert len(parsed[-1]["dags"]) <= 2
    assert SharedDagDeploy.objects.count() == 0

    # Far more than the limits allow is refused from its Content-Length, before it is parsed.
    settings.SHARED_COMPOSER_DAG_LIMIT, settings.SHARED_COMPOSER_DAG_MAX_BYTES = 1, 10
    before = len(parsed)
    response = _upload(client, deployed_member, {"big.py": b"#" * 100_000})
    assert "a member may have at most 10 bytes of DAGs" in " ".join(_messages(response)) and len(parsed) == before

    settings.SHARED_COMPOSER_DAG_LIMIT, settings.SHARED_COMPOSER_DAG_MAX_BYTES = 50, 1000
    response = _upload(client, deployed_member, {"daily.py": b"# a DAG\n", "weekly.py": b"# another\n"})
    assert "2 DAG file(s) deployed to dev." in _messages(response)
    assert SharedDagDeploy.objects.get().files == ["daily.py", "weekly.py"]


def test_the_upload_page_still_checks_csrf(deployed_member, member):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert _upload(client, deployed_member, {"daily.py": b"# a DAG\n"}).status_code == 403
