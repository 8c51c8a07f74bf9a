"""The services behind the provider, without Terraform."""

import json
import multiprocessing
import sqlite3

import pytest

from localcloud import bigquery, composer, iam, inventory, storage
from localcloud.errors import AlreadyExists, Conflict, InvalidValue, NotFound
from localcloud.store import Store

P = "sc-123-example-dev"
SCHEMA = json.dumps(
    [
        {"name": "dt", "type": "DATE", "mode": "REQUIRED"},
        {"name": "n", "type": "INT64"},
        {"name": "code", "type": "STRING"},
        {"name": "tags", "type": "STRING", "mode": "REPEATED"},
    ]
)


def make_table(store: Store, **spec) -> dict:
    bigquery.create_dataset(store, P, "kpis", labels={"team": "data"})
    return bigquery.create_table(store, P, "kpis", "t", {"schema": SCHEMA, **spec})


def test_table_is_a_real_sqlite_table(store: Store) -> None:
    make_table(store, time_partitioning={"type": "DAY", "field": "dt"}, clustering=["code"])
    path = bigquery.dataset_path(store, P, "kpis")
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO t (dt, n, code, tags) VALUES ('2024-01-01', 1, '00123', '[\"a\"]')")
        assert db.execute("SELECT code FROM t").fetchone() == ("00123",), "strings stay strings"
        indexes = {row[1] for row in db.execute("PRAGMA index_list(t)")}
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("INSERT INTO t (n) VALUES (2)")  # dt is REQUIRED
    assert indexes == {"t__partition", "t__cluster"}
    table = bigquery.get_table(store, P, "kpis", "t")
    assert [(c["name"], c["type"], c["mode"]) for c in table["fields"]] == [
        ("dt", "DATE", "REQUIRED"),
        ("n", "INTEGER", "NULLABLE"),
        ("code", "STRING", "NULLABLE"),
        ("tags", "STRING", "REPEATED"),
    ]


def test_table_reports_its_row_count(store: Store) -> None:
    assert make_table(store)["num_rows"] == 0
    with sqlite3.connect(bigquery.dataset_path(store, P, "kpis")) as db:
        db.executemany("INSERT INTO t (dt, n) VALUES (?, ?)", [("2024-01-01", 1), ("2024-01-02", 2)])
    assert bigquery.get_table(store, P, "kpis", "t")["num_rows"] == 2


def test_read_reports_a_column_dropped_behind_its_back(store: Store) -> None:
    make_table(store)
    with sqlite3.connect(bigquery.dataset_path(store, P, "kpis")) as db:
        db.execute("ALTER TABLE t DROP COLUMN code")
    assert [c["name"] for c in bigquery.get_table(store, P, "kpis", "t")["fields"]] == ["dt", "n", "tags"]


def test_schema_update_keeps_rows(store: Store) -> None:
    make_table(store)
    with sqlite3.connect(bigquery.dataset_path(store, P, "kpis")) as db:
        db.execute("INSERT INTO t (dt, n) VALUES ('2024-01-01', 5)")
    new_schema = [*json.loads(SCHEMA)[:2], {"name": "extra", "type": "BOOL"}]
    bigquery.update_table(store, P, "kpis", "t", {"schema": json.dumps(new_schema)})
    with sqlite3.connect(bigquery.dataset_path(store, P, "kpis")) as db:
        assert db.execute("SELECT dt, n, extra FROM t").fetchall() == [("2024-01-01", 5, None)]
    required = [*new_schema, {"name": "must", "type": "STRING", "mode": "REQUIRED"}]
    with pytest.raises(Conflict, match="REQUIRED column"):
        bigquery.update_table(store, P, "kpis", "t", {"schema": json.dumps(required)})


def test_table_needs_its_dataset(store: Store) -> None:
    with pytest.raises(NotFound) as error:
        bigquery.create_table(store, P, "missing", "t", {"schema": SCHEMA})
    assert error.value.field == "dataset_id"


def test_dataset_with_tables_is_not_deleted_unless_asked(store: Store) -> None:
    make_table(store, deletion_protection=False)  # a protected table keeps its dataset: test_deletion_protection
    with pytest.raises(Conflict, match="still contains tables"):
        bigquery.delete_dataset(store, P, "kpis")
    bigquery.delete_dataset(store, P, "kpis", delete_contents=True)
    assert bigquery.get_dataset(store, P, "kpis") is None
    assert store.records(P) == []


def test_dataset_twice_is_an_error_naming_import(store: Store) -> None:
    bigquery.create_dataset(store, P, "kpis")
    with pytest.raises(AlreadyExists, match="terraform import"):
        bigquery.create_dataset(store, P, "kpis")


def test_bad_names_are_rejected(store: Store) -> None:
    with pytest.raises(InvalidValue, match="project"):
        bigquery.create_dataset(store, "Bad_Project", "kpis")
    with pytest.raises(InvalidValue) as error:
        bigquery.create_dataset(store, P, "kpis", labels={"Team": "x"})
    assert error.value.field == "labels.Team"


def test_buckets_are_global_directories(store: Store) -> None:
    bucket = storage.create_bucket(store, P, "my-bucket", labels={"team": "data"})
    path = storage.bucket_dir(store, P, "my-bucket")
    assert path.is_dir() and bucket["versioning"] is False
    with pytest.raises(AlreadyExists, match="global"):
        storage.create_bucket(store, "sc-9-other-dev", "my-bucket")
    (path / "file.txt").write_text("x")
    with pytest.raises(Conflict, match="not empty"):
        storage.delete_bucket(store, "my-bucket")
    storage.delete_bucket(store, "my-bucket", force=True)
    assert not path.exists() and storage.get_bucket(store, "my-bucket") is None


def test_bindings_and_members(store: Store) -> None:
    iam.create_service_account(store, P, "compute", "Compute")
    sa = f"compute@{P}.iam.gserviceaccount.com"
    target = iam.binding_target(service_account=sa)[1]
    iam.add_member(
        store, target, "roles/iam.serviceAccountTokenCreator", "serviceAccount:a@sc-1-x-dev.iam.gserviceaccount.com"
    )
    iam.add_member(
        store, target, "roles/iam.serviceAccountTokenCreator", "serviceAccount:b@sc-1-x-dev.iam.gserviceaccount.com"
    )
    assert len(iam.effective_members(store, target)["roles/iam.serviceAccountTokenCreator"]) == 2
    with pytest.raises(InvalidValue) as error:
        iam.set_binding(store, target, "roles/storage.objectAdmin", ["group:g@example.com"])
    assert error.value.field == "role" and "roles/iam.serviceAccountTokenCreator" in error.value.allowed
    with pytest.raises(InvalidValue, match=r"members\[0\]"):
        iam.set_binding(store, f"projects/{P}", "roles/composer.user", ["bob"])
    iam.delete_service_account(store, P, "compute")
    assert store.records(P) == [], "grants on a deleted service account go with it"


def test_composer_environment_files_round_trip(store: Store) -> None:
    spec = {
        "image_version": "composer-2.9.7-airflow-2.9.3",
        "airflow_config_overrides": {"smtp-smtp_host": "smtp.example.com", "core-dag_concurrency": "4"},
        "pypi_packages": {"jira": "==2.0.0", "allegro-composer-extras": "==2.0.0rc8", "any": ""},
        "env_variables": {"DEPLOY_ENV": "dev"},
    }
    env = composer.create_environment(store, P, "my-team-composer", spec)
    folder = composer.env_dir(store, P, "my-team-composer")
    assert "[smtp]\nsmtp_host = smtp.example.com" in (folder / "airflow.cfg").read_text()
    assert (folder / "requirements.txt").read_text() == "allegro-composer-extras==2.0.0rc8\nany\njira==2.0.0\n"
    assert env["pypi_packages"] == spec["pypi_packages"] and env["env_variables"] == spec["env_variables"]
    assert env["airflow_config_overrides"] == spec["airflow_config_overrides"]
    assert storage.get_bucket(store, env["dag_bucket"]) is not None
    composer.delete_environment(store, P, "my-team-composer")
    assert store.records(P) == [] and not folder.exists()


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("airflow_config_overrides", {"core-dags_folder": "/x"}, "airflow_config_overrides.core-dags_folder"),
        ("airflow_config_overrides", {"nodash": "x"}, "airflow_config_overrides.nodash"),
        ("pypi_packages", {"jira": "2.0.0"}, "pypi_packages.jira"),
        ("env_variables", {"AIRFLOW__CORE__X": "1"}, "env_variables.AIRFLOW__CORE__X"),
        ("image_version", "airflow-2", "image_version"),
    ],
)
def test_composer_bad_input(store: Store, key: str, value, field: str) -> None:
    spec = {"image_version": "composer-2.9.7-airflow-2.9.3", key: value}
    with pytest.raises(InvalidValue) as error:
        composer.create_environment(store, P, "env-one", spec)
    assert error.value.field == field


def test_inventory_lists_reality(store: Store) -> None:
    make_table(store)
    record = inventory.find(store, P, "dataset", "kpis")
    inventory.set_labels(store, record, {"team": "other", "new": "x"})
    listed = {r["name"]: r for r in inventory.list_project(store, P)}
    assert listed["kpis"]["attributes"]["labels"] == {"team": "other", "new": "x"}
    assert [c["name"] for c in listed["kpis.t"]["columns"]] == ["dt", "n", "code", "tags"]
    bigquery.dataset_path(store, P, "kpis").unlink()
    assert {r["status"] for r in inventory.list_project(store, P)} == {"missing"}


def _writer(root: str, project: str, count: int) -> None:
    store = Store(root)
    bigquery.create_dataset(store, project, "d")
    for i in range(count):
        iam.create_service_account(store, project, f"account-{i}")
        bigquery.create_table(store, project, "d", f"t{i}", {"schema": SCHEMA})


def test_concurrent_writers_on_two_projects(tmp_path) -> None:
    root = str(tmp_path / "cloud")
    Store(root)
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_writer, args=(root, p, 15)) for p in ("sc-1-alpha-dev", "sc-2-beta-dev")]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0, 0]
    for project in ("sc-1-alpha-dev", "sc-2-beta-dev"):
        assert len(Store(root).records(project)) == 31
