"""Tenant isolation at build and upload (issue 11): crafted zips are refused through the API and the
page with file and line, nothing is stored, and build_artifact refuses the same source tree."""

import io

import pytest
from django.utils.html import escape

from deployments.artifacts import build_artifact
from deployments.artifacts.models import Artifact
from deployments.artifacts.services import artifact_upload
from deployments.dsl import DslError
from onboarding.models import Membership, Role
from tests.artifacts.helpers import rebuild_with_metadata
from tests.artifacts.pages import api_upload, build, entries, page_upload, stored_files
from tests.deployments.conftest import write_project

pytestmark = pytest.mark.django_db

DATASET = (
    'module "d" {{\n  source     = "../../modules/local/dataset"\n  project_id = "{project}"\n  dataset_id = "x"\n}}\n'
)
GUARDS = {
    "other project in a resource": (
        "evil.tf",
        'resource "localcloud_dataset" "d" {\n  name    = "x"\n  project = "sc-7-other-prod"\n}\n',
        "infrastructure/prod/evil.tf:3:3: 'project = \"sc-7-other-prod\"' is not allowed",
    ),
    "other project in a module call": (
        "evil.tf",
        DATASET.format(project="sc-7-other-prod"),
        "infrastructure/prod/evil.tf:3:3: 'project_id = \"sc-7-other-prod\"' is not allowed",
    ),
    "file of path.cwd/..": (
        "evil.tf",
        'output "k" {\n  value = file("${path.cwd}/../../secret-key")\n}\n',
        "infrastructure/prod/evil.tf:2:11: file() builds its path on something other than path.module",
    ),
    "file of an absolute path": (
        "evil.tf",
        'output "k" {\n  value = file("/etc/passwd")\n}\n',
        "infrastructure/prod/evil.tf:2:11: file() reads the absolute path '/etc/passwd'",
    ),
    "file of /proc/1/environ": (
        "evil.tf",
        'locals {\n  e = base64encode(file("/proc/1/environ"))\n}\n',
        "infrastructure/prod/evil.tf:2:20: file() reads the absolute path '/proc/1/environ'",
    ),
    "templatefile with ..": (
        "evil.tf",
        'output "t" {\n  value = templatefile("${path.module}/../../x.tftpl", {})\n}\n',
        "infrastructure/prod/evil.tf:2:11: templatefile() reads '${path.module}/../../x.tftpl', which leads out",
    ),
    "a .tofu file": (
        "evil.tofu",
        'resource "localcloud_dataset" "d" {\n  project = "sc-7-other-prod"\n}\n',
        "infrastructure/prod/evil.tofu:1:1: OpenTofu configuration (.tofu) is not accepted",
    ),
    "a .tofu.json file": (
        "evil.tofu.json",
        '{"output": {"k": {"value": "${file(\\"/etc/passwd\\")}"}}}\n',
        "infrastructure/prod/evil.tofu.json:1:1: JSON OpenTofu configuration (.tofu.json) is not accepted",
    ),
    "an override file": (
        "main_override.tf",
        'module "dataset_example_reports" {\n  project_id = "sc-7-other-prod"\n}\n',
        "infrastructure/prod/main_override.tf:1:1: override files (override.tf, *_override.tf) are not accepted",
    ),
}


@pytest.fixture
def good_zip(tmp_path):
    return build(tmp_path, "0.1.0")


def crafted(good_zip: bytes, case: str) -> bytes:
    """A zip not built by Hangar's builder: the file added to prod, checksums brought up to date."""
    name, text, _ = GUARDS[case]
    return rebuild_with_metadata({**entries(good_zip), f"infrastructure/prod/{name}": text.encode()})


@pytest.mark.parametrize("case", GUARDS)
def test_the_api_refuses_a_crafted_zip(client_for, member, project, media, good_zip, case):
    response = api_upload(client_for(member), project, crafted(good_zip, case))
    assert response.status_code == 400
    problems = response.json()["file"]
    assert any(problem.startswith(GUARDS[case][2]) for problem in problems), problems
    assert not Artifact.objects.exists() and not stored_files(media)


@pytest.mark.parametrize("case", GUARDS)
def test_the_page_refuses_a_crafted_zip(client_for, member, project, media, good_zip, case):
    response = page_upload(client_for(member), project, crafted(good_zip, case))
    assert response.status_code == 400
    problems = [str(problem) for problem in response.context["problems"]]
    assert any(problem.startswith(GUARDS[case][2]) for problem in problems), problems
    assert escape(GUARDS[case][2]) in response.text
    assert not Artifact.objects.exists() and not stored_files(media)


@pytest.mark.parametrize("case", GUARDS)
def test_build_artifact_refuses_the_same_source_tree(tmp_path, case):
    name, text, reason = GUARDS[case]
    source = write_project(tmp_path / "src", tables=["summary"])
    prod = source / "infrastructure" / "prod"
    (prod / "main.yaml").unlink()  # prod in plain Terraform: the user's files beside Hangar's modules
    (prod / "main.tf").write_text(DATASET.format(project="sc-123-example-prod"))
    (prod / name).write_text(text)
    with pytest.raises(DslError) as caught:
        build_artifact(source_dir=source, version="0.1.0", project_slug="sc-123-example")
    problems = [str(problem) for problem in caught.value.problems]
    assert any(problem.startswith(reason) for problem in problems), problems


def test_the_plain_terraform_of_the_build_test_passes_when_it_stays_at_home(tmp_path, project, member, media):
    source = write_project(tmp_path / "src", tables=["summary"])
    prod = source / "infrastructure" / "prod"
    (prod / "main.yaml").unlink()
    (prod / "main.tf").write_text(DATASET.format(project="sc-123-example-prod"))
    built = build_artifact(source_dir=source, version="0.1.0", project_slug="sc-123-example")
    _, created = artifact_upload(project=project, fileobj=io.BytesIO(built.content), user=member)
    assert created


def test_tofu_files_in_a_bundled_module_are_refused_at_upload(client_for, member, project, media, good_zip):
    files = {**entries(good_zip), "modules/local/dataset/evil.tofu": b'locals {\n  a = file("/etc/passwd")\n}\n'}
    response = api_upload(client_for(member), project, rebuild_with_metadata(files))
    assert response.status_code == 400
    assert any(p.startswith("modules/local/dataset/evil.tofu:1:1: OpenTofu") for p in response.json()["file"])
    assert not Artifact.objects.exists()


def test_templates_in_a_bundled_module_are_checked_at_upload(client_for, member, project, media, good_zip):
    files = {**entries(good_zip), "modules/local/dataset/t.tftpl": b'${file("/etc/passwd")}\n'}
    response = api_upload(client_for(member), project, rebuild_with_metadata(files))
    assert response.status_code == 400
    assert any(p.startswith("modules/local/dataset/t.tftpl:1:1: file() reads") for p in response.json()["file"])


def test_tofu_files_in_a_bundled_module_are_refused_at_build(tmp_path):
    import shutil

    from deployments.artifacts.build import DEFAULT_MODULES_DIR

    modules = tmp_path / "terraform_modules"
    shutil.copytree(DEFAULT_MODULES_DIR, modules)
    (modules / "local" / "dataset" / "extra.tofu").write_text("locals {}\n")
    source = write_project(tmp_path / "src", tables=["summary"])
    with pytest.raises(DslError) as caught:
        build_artifact(source_dir=source, version="0.1.0", modules_dir=modules)
    assert any(str(p).startswith("modules/local/dataset/extra.tofu:1:1: OpenTofu") for p in caught.value.problems)


# shared: only in the platform project -----------------------------------------------

SHARED_MAIN = """infrastructure:
  gcp:
    composers:
      - name: msc
        shared:
          scheduler: bigdata-scheduler
          members:
            - project: sc-123-example
              project_id: sc-123-example-{env}
              group: data-engine@groups.hangar.local
              create_service_account: true
    service_accounts:
      - name: bigdata-scheduler
        impersonated_by: [composer:msc]
"""


def shared_source(root, *, service_control_id: int, name: str, team: str):
    (root / "infrastructure").mkdir(parents=True)
    (root / "hangar.yaml").write_text(f"service_control_id: {service_control_id}\nname: {name}\nteam: {team}\n")
    for env in ("dev", "test", "prod"):
        (root / "infrastructure" / env).mkdir()
        (root / "infrastructure" / env / "main.yaml").write_text(SHARED_MAIN.format(env=env))
    return root


SHARED_REFUSED = (
    "infrastructure/dev/main.yaml:5:9: 'shared' (composer 'msc') is accepted only in the artifacts of "
    "the platform project 'sc-1-msc'"
)


def test_shared_outside_the_platform_project_is_refused_by_the_api_and_the_page(
    client_for, member, project, media, tmp_path
):
    # The builder cannot know which project is the platform's: it builds this; the upload refuses it.
    source = shared_source(tmp_path / "src", service_control_id=123, name="example", team="data-engine")
    data = build_artifact(source_dir=source, version="0.1.0", project_slug="sc-123-example").content
    client = client_for(member)
    response = api_upload(client, project, data)
    assert response.status_code == 400
    problems = response.json()["file"]
    assert any(problem.startswith(SHARED_REFUSED) for problem in problems), problems
    page = page_upload(client, project, data)
    assert page.status_code == 400 and any(str(p).startswith(SHARED_REFUSED) for p in page.context["problems"])
    assert not Artifact.objects.exists() and not stored_files(media)


def test_shared_outside_the_platform_project_is_refused_with_consistent_terraform_too(
    client_for, member, project, media, good_zip
):
    """A crafted zip whose main.yaml has shared: but whose Terraform is harmless is still refused."""
    files = entries(good_zip)
    files["infrastructure/dev/main.yaml"] = SHARED_MAIN.format(env="dev").encode()
    response = api_upload(client_for(member), project, rebuild_with_metadata(files))
    assert response.status_code == 400 and any(p.startswith(SHARED_REFUSED) for p in response.json()["file"])
    assert not Artifact.objects.exists()


def test_shared_is_accepted_in_the_platform_project(client_for, make_user, platform_identity, media, tmp_path):
    lead = make_user("petra")
    Membership.objects.create(team=platform_identity.team, user=lead, role=Role.LEAD)
    source = shared_source(tmp_path / "src", service_control_id=1, name="msc", team="platform")
    data = build_artifact(source_dir=source, version="0.1.0", project_slug="sc-1-msc").content
    response = api_upload(client_for(lead), platform_identity, data)
    assert response.status_code == 201, response.json()
    assert Artifact.objects.get().project == platform_identity
