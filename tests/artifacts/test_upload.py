"""Uploading artifacts through the API and the page: versions are immutable, hostile
zips are refused with their reason, and a refusal leaves nothing behind."""

import io
import threading
import zipfile
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.urls import reverse
from django.utils.html import escape

from deployments.artifacts import services as artifact_services
from deployments.artifacts.models import Artifact
from deployments.artifacts.services import artifact_upload
from deployments.runs.models import Deployment, Run
from onboarding import services
from tests.artifacts.helpers import zip_of
from tests.artifacts.pages import api_upload, build, entries, page_upload, stored_files, with_entry

pytestmark = pytest.mark.django_db

REUSED = "exists already with different content"


@pytest.fixture
def first(project, member, media, tmp_path):
    """Version 0.1.0, stored."""
    artifact, created = artifact_upload(project=project, fileobj=io.BytesIO(build(tmp_path, "0.1.0")), user=member)
    assert created
    return artifact


# Immutability ---------------------------------------------------------------


def test_the_api_refuses_a_version_reused_for_other_content(client_for, member, project, first, media, tmp_path):
    before = stored_files(media)
    other = build(tmp_path, "0.1.0", tables=("summary", "events"))
    response = api_upload(client_for(member), project, other)
    assert response.status_code == 400
    assert REUSED in response.json()["file"][0] and "Versions are immutable" in response.json()["file"][0]
    assert Artifact.objects.count() == 1 and stored_files(media) == before


def test_the_page_refuses_a_version_reused_for_other_content(client_for, member, project, first, media, tmp_path):
    before = stored_files(media)
    response = page_upload(client_for(member), project, build(tmp_path, "0.1.0", description="Changed"))
    assert response.status_code == 400
    assert "The artifact was not stored" in response.text and REUSED in response.text
    assert Artifact.objects.count() == 1 and stored_files(media) == before


def test_identical_bytes_are_a_no_op_in_the_api(client_for, member, project, first, media):
    before = stored_files(media)
    response = api_upload(client_for(member), project, first.file.read())
    assert response.status_code == 200 and response.json()["sha256"] == first.sha256
    assert Artifact.objects.count() == 1 and stored_files(media) == before


def test_identical_content_built_at_another_time_is_a_no_op_too(client_for, member, project, first, media, tmp_path):
    rebuilt = build(tmp_path, "0.1.0", built_at=datetime(2030, 1, 1, tzinfo=UTC))
    assert rebuilt != first.file.read()
    assert api_upload(client_for(member), project, rebuilt).status_code == 200
    assert Artifact.objects.count() == 1


def test_identical_bytes_say_nothing_changed_in_the_page(client_for, member, project, first, media):
    before = stored_files(media)
    response = page_upload(client_for(member), project, first.file.read(), follow=True)
    assert response.redirect_chain[-1][0] == first.get_absolute_url()
    assert "Version 0.1.0 is identical to the stored version: nothing changed." in response.text
    assert Artifact.objects.count() == 1 and stored_files(media) == before


def test_a_new_version_is_stored_and_announced(client_for, member, project, first, media, tmp_path):
    response = page_upload(client_for(member), project, build(tmp_path, "0.2.0"), follow=True)
    assert response.status_code == 200 and "Uploaded version 0.2.0" in response.text
    artifact = Artifact.objects.get(version="0.2.0")
    assert artifact.uploaded_by == member and artifact.size == artifact.file.size
    assert len(stored_files(media)) == 2


# Two uploads of one version at once -----------------------------------------


def _race(project, user, payloads: list[bytes], monkeypatch) -> list:
    """Upload each payload from its own thread; both pass the existence check before either stores."""
    barrier = threading.Barrier(len(payloads), timeout=30)
    storage = artifact_services.default_storage
    real_save = storage.save

    def save_after_everyone_checked(name, content, **kwargs):
        barrier.wait()  # every thread has inspected its zip and found no stored version
        return real_save(name, content, **kwargs)

    monkeypatch.setattr(storage, "save", save_after_everyone_checked)
    outcomes: list = [None] * len(payloads)

    def upload(index: int) -> None:
        try:
            outcomes[index] = artifact_upload(project=project, fileobj=io.BytesIO(payloads[index]), user=user)
        except Exception as error:  # the outcome is what the test inspects
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=upload, args=(index,)) for index in range(len(payloads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "an upload thread hung"
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_racing_uploads_of_the_same_content_store_it_once(project, member, media, tmp_path, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the race needs a database that takes concurrent writers")
    data = build(tmp_path, "0.3.0")
    outcomes = _race(project, member, [data, data], monkeypatch)
    assert all(isinstance(outcome, tuple) for outcome in outcomes), outcomes
    assert sorted(created for _artifact, created in outcomes) == [False, True]
    assert {artifact.pk for artifact, _created in outcomes} == {Artifact.objects.get().pk}
    assert len(stored_files(media)) == 1 and Artifact.objects.get().file.read() == data


@pytest.mark.django_db(transaction=True)
def test_racing_uploads_of_different_content_store_one_and_refuse_the_other(
    project, member, media, tmp_path, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("the race needs a database that takes concurrent writers")
    one, other = build(tmp_path, "0.3.0"), build(tmp_path, "0.3.0", tables=("summary", "events"))
    outcomes = _race(project, member, [one, other], monkeypatch)
    stored = [outcome for outcome in outcomes if isinstance(outcome, tuple)]
    refused = [outcome for outcome in outcomes if not isinstance(outcome, tuple)]
    assert len(stored) == 1 and stored[0][1] is True, outcomes
    assert len(refused) == 1 and REUSED in " ".join(refused[0].messages)
    winner = Artifact.objects.get()
    assert winner.pk == stored[0][0].pk and len(stored_files(media)) == 1
    assert winner.file.read() == (one if outcomes[0] is stored[0] else other)


# Hostile zips ---------------------------------------------------------------


def _absolute(data: bytes) -> bytes:
    info = zipfile.ZipInfo("x")
    info.filename = "/etc/passwd"  # set after construction, as an attacker's tool would
    return with_entry(data, info)


def _symlink(data: bytes) -> bytes:
    info = zipfile.ZipInfo("infrastructure/bq_schemas/link.json")
    info.create_system = 3
    info.external_attr = 0o120777 << 16
    return with_entry(data, info, b"/etc/passwd")


def _checksum_mismatch(data: bytes) -> bytes:
    files = entries(data)
    files["infrastructure/prod/main.tf"] += b"\n# changed after the build\n"
    return zip_of(list(files.items()))


HOSTILE = {
    "path traversal": (
        lambda data: with_entry(data, "infrastructure/../../etc/cron.d/x"),
        "entry 'infrastructure/../../etc/cron.d/x': '..' is not allowed in paths",
    ),
    "absolute path": (_absolute, "entry '/etc/passwd': absolute paths are not allowed"),
    "symlink": (_symlink, "is a symbolic link; links are not allowed"),
    "zip bomb": (
        lambda data: with_entry(data, "infrastructure/bq_schemas/bomb.json", b"0" * 30_000_000),
        "entry 'infrastructure/bq_schemas/bomb.json' expands to 30000000 bytes",
    ),
    "checksum mismatch": (
        _checksum_mismatch,
        "'infrastructure/prod/main.tf' does not match its checksum in metadata.yaml",
    ),
}


@pytest.fixture
def good_zip(tmp_path):
    return build(tmp_path, "0.1.0")


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_zips_are_refused_by_the_api(client_for, member, project, media, good_zip, case):
    make, reason = HOSTILE[case]
    response = api_upload(client_for(member), project, make(good_zip))
    assert response.status_code == 400
    assert any(reason in problem for problem in response.json()["file"]), response.json()
    assert not Artifact.objects.exists() and not stored_files(media)


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_zips_are_refused_by_the_page(client_for, member, project, media, good_zip, case):
    make, reason = HOSTILE[case]
    response = page_upload(client_for(member), project, make(good_zip))
    assert response.status_code == 400
    problems = [str(problem) for problem in response.context["problems"]]
    assert any(reason in problem for problem in problems), problems
    assert escape(reason) in response.text
    assert not Artifact.objects.exists() and not stored_files(media)


@pytest.fixture
def other_project(team, lead):
    return services.project_register(service_control_id=7, name="other", team=team, user=lead)


WRONG_PROJECT = "this artifact belongs to project 'sc-123-example' (hangar.yaml), not 'sc-7-other'"


def test_an_artifact_of_another_project_is_refused_by_the_api(client_for, member, other_project, media, good_zip):
    response = api_upload(client_for(member), other_project, good_zip)
    assert response.status_code == 400 and response.json() == {"file": [WRONG_PROJECT]}
    assert not Artifact.objects.exists() and not stored_files(media)


def test_an_artifact_of_another_project_is_refused_by_the_page(client_for, member, other_project, media, good_zip):
    response = page_upload(client_for(member), other_project, good_zip)
    assert response.status_code == 400 and response.context["problems"] == [WRONG_PROJECT]
    assert "not &#x27;sc-7-other&#x27;" in response.text
    assert not Artifact.objects.exists() and not stored_files(media)


def test_the_page_asks_for_a_file_when_none_is_given(client_for, member, project, media):
    response = client_for(member).post(reverse("project_artifacts", args=[project.slug]), {})
    assert response.status_code == 400 and "This field is required." in response.text
    assert not Artifact.objects.exists()


# Who may upload ---------------------------------------------------------------


def test_a_viewer_cannot_upload_through_the_api(client_for, viewer, project, media, good_zip):
    response = api_upload(client_for(viewer), project, good_zip)
    assert response.status_code == 403 and "Only members of Data Engine" in response.json()["detail"]
    assert not Artifact.objects.exists() and not stored_files(media)


def test_a_viewer_cannot_upload_through_the_page(client_for, viewer, project, media, good_zip):
    client = client_for(viewer)
    page = client.get(reverse("project_artifacts", args=[project.slug]))
    assert page.status_code == 200 and 'type="file"' not in page.text and "uploading needs the member" in page.text
    response = page_upload(client, project, good_zip)
    assert response.status_code == 403 and "Only members of Data Engine can upload artifacts" in response.text
    assert not Artifact.objects.exists() and not stored_files(media)


def test_an_outsider_gets_404_from_the_upload_api_and_page(client_for, outsider, project, media, good_zip):
    client = client_for(outsider)
    assert api_upload(client, project, good_zip).status_code == 404
    assert client.get(f"/api/projects/{project.slug}/artifacts/").status_code == 404
    assert page_upload(client, project, good_zip).status_code == 404
    assert not Artifact.objects.exists() and not stored_files(media)


# Admin: read-only, deletable only while unused ----------------------------------


def test_the_admin_shows_artifacts_read_only_and_deletes_none(client_for, admin_user, project, member, first, upload):
    used = first
    unused = upload(project, member, "0.2.0")
    environment = project.environments.get(name="dev")
    deployment = Deployment.objects.create(environment=environment, target="local")
    Run.objects.create(deployment=deployment, artifact=used, requested_by=member)
    client = client_for(admin_user)

    change = client.get(reverse("admin:deployments_artifact_change", args=[used.pk]))
    assert change.status_code == 200 and used.sha256 in change.text
    assert 'name="_save"' not in change.text and 'name="_continue"' not in change.text
    assert (
        client.post(reverse("admin:deployments_artifact_change", args=[used.pk]), {"version": "9.9.9"}).status_code
        == 403
    )
    assert client.get(reverse("admin:deployments_artifact_add")).status_code == 403

    assert client.get(reverse("admin:deployments_artifact_delete", args=[used.pk])).status_code == 403
    assert client.post(reverse("admin:deployments_artifact_delete", args=[used.pk]), {"post": "yes"}).status_code == 403
    assert Artifact.objects.filter(pk=used.pk).exists()

    # Artifacts are history, used or not: a version number is never reused.
    assert client.get(reverse("admin:deployments_artifact_delete", args=[unused.pk])).status_code == 403
    response = client.post(reverse("admin:deployments_artifact_delete", args=[unused.pk]), {"post": "yes"})
    assert response.status_code == 403 and Artifact.objects.filter(pk=unused.pk).exists()


def test_an_oversized_upload_is_refused_from_its_headers_alone(client_for, member, project):
    from rest_framework.test import APIClient

    from deployments.artifacts.inspection import UploadLimits
    from deployments.artifacts.models import Artifact

    too_big = str(UploadLimits().max_compressed_bytes * 2)
    api = APIClient()
    api.force_authenticate(member)
    response = api.post(f"/api/projects/{project.slug}/artifacts/", {}, CONTENT_LENGTH=too_big)
    assert response.status_code == 413 and "at most" in response.json()["file"][0]
    page = client_for(member).post(f"/projects/{project.slug}/artifacts/", {}, CONTENT_LENGTH=too_big)
    assert page.status_code == 413 and "at most" in page.text
    assert not Artifact.objects.exists()
