"""The seeds' documents, written as they are meant, validate and compile."""

from pathlib import Path

import pytest

from deployments.dsl import compile_environment, parse_environment, used_modules
from tests.dsl.conftest import EXAMPLE

ENVIRONMENTS = ("dev", "test", "prod")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_sample_project_environments_validate_and_compile(env):
    path = EXAMPLE / "infrastructure" / env / "main.yaml"
    spec = parse_environment(
        text=path.read_text(), filename=f"infrastructure/{env}/main.yaml", infrastructure_dir=path.parent.parent
    )
    files = compile_environment(spec=spec, project_id=f"sc-123-example-{env}", team="data-platform")
    assert sorted(files) == ["backend.tf", "main.tf", "outputs.tf", "providers.tf"]
    assert f'project_id = "sc-123-example-{env}"' in files["main.tf"]


def test_production_composer_of_the_seed(tmp_path: Path):
    spec = parse_environment(
        text=(EXAMPLE / "infrastructure/prod/main.yaml").read_text(),
        filename="infrastructure/prod/main.yaml",
        infrastructure_dir=EXAMPLE / "infrastructure",
    )
    composer = spec.composers[0]
    assert composer.name == "my-team-composer"
    assert composer.version == "v2"
    assert composer.airflow_config_overrides["smtp-smtp_starttls"] == "false"
    assert composer.airflow_config_overrides["smtp-smtp_user"] == ""
    assert composer.pypi_packages["allegro-composer-extras"] == "==2.0.0rc8"


def test_unmanaged_dataset_gets_tables_but_no_dataset_module():
    spec = parse_environment(
        text=(EXAMPLE / "infrastructure/prod/main.yaml").read_text(),
        filename="infrastructure/prod/main.yaml",
        infrastructure_dir=EXAMPLE / "infrastructure",
    )
    kpis = spec.datasets[0]
    assert (kpis.name, kpis.managed, kpis.description) == ("data_platform_kpis", False, "")
    table = kpis.tables[0]
    assert table.gdpr_labels == {"gdpr_personal_data": "0", "gdpr_sensitive_data": "0"}  # from the *GDPR_ZEROS alias
    assert (table.time_partitioning.type, table.time_partitioning.field) == ("DAY", "dt")
    main_tf = compile_environment(spec=spec, project_id="sc-123-example-prod", team="t")["main.tf"]
    assert 'module "dataset_data_platform_kpis"' not in main_tf
    assert 'dataset_id  = "data_platform_kpis"' in main_tf
    assert 'module "dataset_example_reports"' in main_tf


def test_simplest_configuration_uses_the_organisation_defaults(tmp_path: Path):
    text = "infrastructure:\n  gcp:\n    composers:\n      - name: my-team-composer\n"
    spec = parse_environment(text=text, filename="main.yaml", infrastructure_dir=tmp_path)
    main_tf = compile_environment(spec=spec, project_id="sc-1-x-dev", team="t")["main.tf"]
    module = main_tf.split('module "composer_my-team-composer" {')[1]
    assert "image_version" not in module and "airflow_config_overrides" not in module
    assert used_modules(spec) == ["composer_environment"]


def test_processing_clusters_none_and_empty_file_sections(tmp_path: Path):
    text = "infrastructure:\n  gcp:\n    composers: ~\n    processing_clusters: ~\n    datasets: []\n"
    spec = parse_environment(text=text, filename="main.yaml", infrastructure_dir=tmp_path)
    assert spec.composers == () and spec.datasets == ()


def test_merge_keys_and_anchors_defined_inline(tmp_path: Path):
    (tmp_path / "bq_schemas").mkdir()
    (tmp_path / "bq_schemas/t.json").write_text('[{"name": "a", "type": "STRING"}]')
    text = """\
infrastructure:
  gcp:
    datasets:
      - name: d
        tables:
          - name: t1
            parameters: &BASE
              schema: "file:bq_schemas/t.json"
              custom_labels: {owner: me}
          - name: t2
            parameters:
              <<: *BASE
              description: second
"""
    spec = parse_environment(text=text, filename="main.yaml", infrastructure_dir=tmp_path)
    t1, t2 = spec.datasets[0].tables
    assert t2.schema_file == t1.schema_file and t2.custom_labels == {"owner": "me"} and t2.description == "second"
