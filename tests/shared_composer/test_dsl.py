"""The DSL's `shared` section of a composer: validation with positions, compilation, generated definitions."""

import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings

from deployments.artifacts.build import build_artifact
from deployments.dsl import compile_environment, parse_environment, used_modules
from onboarding.shared_composer.services import shared_definition
from tests.dsl.helpers import FILENAME, problems_of

VALID = """\
infrastructure:
  gcp:
    composers:
      - name: msc
        shared:
          scheduler: bigdata-scheduler
          members:
            - project: sc-123-example
              project_id: sc-123-example-dev
              group: data-engine@groups.example.com
              create_service_account: true
            - project: sc-7-kpis
              project_id: sc-7-kpis-dev
              group: data-engine@groups.example.com
              service_account: kpis-compute
    service_accounts:
      - name: bigdata-scheduler
        impersonated_by: [composer:msc]
"""


def parse(text: str, tmp_path: Path):
    return parse_environment(text=text, filename=FILENAME, infrastructure_dir=tmp_path)


def test_a_shared_composer_compiles_to_grants_per_member_and_one_role_per_group(tmp_path):
    spec = parse(VALID, tmp_path)
    (composer,) = spec.composers
    first, second = composer.shared.members
    assert (first.service_account, first.create_service_account, first.dag_prefix) == (
        "bigdata-compute",
        True,
        "dags/sc-123-example/",
    )
    assert second.service_account_email == "kpis-compute@sc-7-kpis-dev.iam.gserviceaccount.com"
    assert used_modules(spec) == [
        "bucket_access",
        "composer_environment",
        "impersonation",
        "project_iam_member",
        "service_account",
    ]
    main = compile_environment(spec=spec, project_id="sc-1-msc-dev", team="platform")["main.tf"]
    assert 'module "member_sc-123-example_account"' in main
    assert 'module "member_sc-7-kpis_account"' not in main  # not created: it exists in the member's project
    assert 'service_account_email = "kpis-compute@sc-7-kpis-dev.iam.gserviceaccount.com"' in main
    assert "service_account_email = module.member_sc-123-example_account.email" in main
    assert main.count("impersonator_email    = module.service_account_bigdata-scheduler.email") == 2
    assert main.count('prefix  = "dags/') == 2 and "bucket  = module.composer_msc.dag_bucket" in main
    # Two projects of one team: one Composer User grant, which stays while either is a member.
    assert main.count('role       = "roles/composer.user"') == 1


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            ("scheduler: bigdata-scheduler", "scheduler: bigdata-schedulr"),
            "6:22: scheduler 'bigdata-schedulr' names no service account of this file; did you mean "
            "'bigdata-scheduler'? service accounts: 'bigdata-scheduler'",
        ),
        (
            ("project_id: sc-7-kpis-dev", "project_id: sc-7-kpis-staging"),
            "13:27: member project_id 'sc-7-kpis-staging' is not a cloud project of sc-7-kpis; allowed: "
            "'sc-7-kpis-dev', 'sc-7-kpis-test', 'sc-7-kpis-prod'",
        ),
        (
            (
                "project: sc-7-kpis\n              project_id: sc-7-kpis-dev",
                "project: sc-123-example\n              project_id: sc-123-example-dev",
            ),
            "12:24: project 'sc-123-example' is a member already (line 8); a project joins a shared environment once",
        ),
        (
            ("group: data-engine@groups.example.com\n              create", "group: data-engine\n              create"),
            "10:22: member group 'data-engine' is not allowed: use the team's group e-mail address, e.g. "
            "'data-engine@groups.example.com'",
        ),
        (
            ("create_service_account: true", "create_service_account: yes please"),
            "11:39: 'create_service_account' must be True or False; found the text 'yes please'",
        ),
        (
            ("service_account: kpis-compute", "service_acount: kpis-compute"),
            "15:15: unknown key 'service_acount' in member; did you mean 'service_account'? allowed: 'project', "
            "'project_id', 'group', 'service_account', 'create_service_account'",
        ),
        (
            ("project: sc-123-example", "project: example"),
            "8:24: member project 'example' is not allowed: use the member's Hangar project, "
            "sc-<service control id>-<name>, e.g. 'sc-123-example'",
        ),
    ],
)
def test_problems_name_the_place_and_what_is_allowed(tmp_path, change, problem):
    text = VALID.replace(*change)
    assert text != VALID
    assert problems_of(text, tmp_path) == [f"{FILENAME}:{problem}"]


def test_missing_member_keys_and_scheduler_are_reported_together(tmp_path):
    text = "infrastructure:\n  gcp:\n    composers:\n      - name: msc\n        shared:\n          members:\n            - project: sc-1-x\n"
    assert problems_of(text, tmp_path) == [
        f"{FILENAME}:6:11: shared needs a 'scheduler': a service account of this file that runs members' tasks",
        f"{FILENAME}:7:15: member needs 'project_id', 'group'",
    ]


def member(slug: str, team: str, created=()):
    return SimpleNamespace(
        project=SimpleNamespace(slug=slug, team=SimpleNamespace(slug=team)), created_accounts=list(created)
    )


def test_the_generated_definition_builds_with_the_real_modules(tmp_path):
    files = shared_definition(members=[member("sc-9-b", "beta"), member("sc-8-a", "alpha", ["dev"])], team="platform")
    assert sorted(files) == [
        "hangar.yaml",
        "infrastructure/dev/main.yaml",
        "infrastructure/prod/main.yaml",
        "infrastructure/test/main.yaml",
    ]
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    built = build_artifact(source_dir=tmp_path, version="0.1.0", project_slug="sc-1-msc")
    dev = built.files["infrastructure/dev/main.tf"].decode()
    prod = built.files["infrastructure/prod/main.tf"].decode()
    # Members in a stable order; the account is created only where it was missing.
    assert dev.index("member_sc-8-a_impersonation") < dev.index("member_sc-9-b_impersonation")
    assert 'module "member_sc-8-a_account"' in dev and "member_sc-8-a_account" not in prod
    assert 'project_id = "sc-8-a-prod"' not in prod and "sc-8-a-prod.iam.gserviceaccount.com" in prod
    assert "modules/local/project_iam_member/main.tf" in built.files
    # No members: the shared environment on its own still builds.
    empty = shared_definition(members=[], team="platform")
    assert "members: []" in empty["infrastructure/dev/main.yaml"]


@pytest.mark.terraform
def test_compiled_output_is_in_terraform_fmt_style(tmp_path):
    rendered = compile_environment(spec=parse(VALID, tmp_path), project_id="sc-1-msc-dev", team="platform")
    for name in ("main.tf", "outputs.tf"):
        (tmp_path / name).write_text(rendered[name])
    result = subprocess.run(
        [str(settings.TERRAFORM_BINARY), "fmt", "-check", "-diff", "."], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
