"""`python -m localcloud` against the session's server, with the operator token."""

import json
import os
import stat

from localcloud import cli

P = "sc-123-example-dev"


def run(capsys, *args: str) -> tuple[int, object]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else err)


def test_list_show_set_label_delete(localcloud, capsys) -> None:
    code, _ = run(capsys, "create", "--project", P, "dataset", "kpis", "--attr", "labels.team=data")
    assert code == 0
    code, table = run(
        capsys, "create", "--project", P, "table", "kpis.t", "--attr", 'schema=[{"name": "id", "type": "STRING"}]'
    )
    assert code == 0 and table["fields"] == [{"name": "id", "type": "STRING", "mode": "NULLABLE"}]

    code, listed = run(capsys, "list", "--project", P)
    assert code == 0 and [(r["type"], r["name"]) for r in listed] == [("dataset", "kpis"), ("table", "kpis.t")]
    assert listed[1]["columns"] == [{"name": "id", "type": "STRING", "mode": "NULLABLE"}]

    code, shown = run(capsys, "set-label", "--project", P, "dataset", "kpis", "team=", "owner=me")
    assert shown == {"labels": {"owner": "me"}}

    code, rows = run(capsys, "sql", "--project", P, "kpis", "INSERT INTO t VALUES ('x') RETURNING id")
    assert rows == [{"id": "x"}]

    code, err = run(capsys, "drop-column", "--project", P, "kpis.t", "id")
    assert code == 2 and 'sqlite: cannot drop column "id": no other columns exist' in err

    code, _ = run(capsys, "delete", "--project", P, "table", "kpis.t")
    code, listed = run(capsys, "list", "--project", P)
    assert [r["name"] for r in listed] == ["kpis"]
    code, projects = run(capsys, "projects")
    assert projects == [P]


def test_create_every_kind(localcloud, capsys, tmp_path) -> None:
    schema = tmp_path / "events.json"
    schema.write_text('[{"name": "dt", "type": "DATE"}, {"name": "n", "type": "INT64"}]')
    assert run(capsys, "create", "--project", P, "dataset", "raw", "--attr", "description=made by hand")[0] == 0
    code, table = run(capsys, "create", "--project", P, "table", "raw.events", "--attr", f"schema=@{schema}",
                      "--attr", "time_partitioning.field=dt", "--attr", "clustering=n")  # fmt: skip
    assert code == 0 and table["time_partitioning"] == {"type": "DAY", "field": "dt"} and table["clustering"] == ["n"]
    code, account = run(capsys, "create", "--project", P, "service_account", "compute", "--attr", "display_name=C")
    assert account["email"] == f"compute@{P}.iam.gserviceaccount.com"
    code, bucket = run(capsys, "create", "--project", P, "bucket", "sc-123-exports", "--attr", "versioning=true")
    assert code == 0 and bucket["versioning"] is True and os.path.isdir(bucket["path"])
    code, env = run(capsys, "create", "--project", P, "composer_environment", "airflow",
                    "--attr", "image_version=composer-2.9.7-airflow-2.9.3", "--attr", "env_variables.DEPLOY_ENV=dev")  # fmt: skip
    assert code == 0 and env["env_variables"] == {"DEPLOY_ENV": "dev"}
    code, grant = run(capsys, "create", "--project", P, "iam_member", "roles/composer.user",
                      "--attr", "member=group:data@example.com")  # fmt: skip
    assert grant["id"] == f"projects/{P} roles/composer.user group:data@example.com"
    code, binding = run(capsys, "create", "--project", P, "iam_binding", "roles/iam.serviceAccountUser",
                        "--attr", f"target=projects/{P}/serviceAccounts/{account['email']}",
                        "--attr", "members=user:a@example.com,user:b@example.com")  # fmt: skip
    assert code == 0 and binding["members"] == ["user:a@example.com", "user:b@example.com"]
    code, shown = run(capsys, "show", "--project", P, "service_account", "compute")
    assert shown["attributes"]["iam_policy"] == {
        "roles/iam.serviceAccountUser": ["user:a@example.com", "user:b@example.com"]
    }
    kinds = sorted(r["type"] for r in run(capsys, "list", "--project", P)[1])
    assert kinds == [
        "bucket",
        "bucket",
        "composer_environment",
        "dataset",
        "iam_binding",
        "iam_member",
        "service_account",
        "table",
    ]  # fmt: skip  (the environment's DAG bucket is the second)


def test_create_refuses_unknown_attributes_and_duplicates(localcloud, capsys) -> None:
    code, err = run(capsys, "create", "--project", P, "dataset", "kpis", "--attr", "colour=blue")
    assert code == 2 and "colour=blue" in err and "description, location, labels" in err
    code, err = run(capsys, "create", "--project", P, "table", "kpis", "--attr", "description=x")
    assert code == 2 and "DATASET.TABLE" in err
    assert run(capsys, "create", "--project", P, "dataset", "kpis")[0] == 0
    code, err = run(capsys, "create", "--project", P, "dataset", "kpis")
    assert code == 2 and "already exists; import it with terraform import" in err


def test_errors_are_clear(localcloud, capsys) -> None:
    code, err = run(capsys, "show", "--project", P, "dataset", "nope")
    assert code == 2 and "no dataset 'nope'" in err
    code, err = run(capsys, "list", "--project", "Bad_Project")
    assert code == 0  # an unknown project simply has nothing


def test_operator_token_file_from_environment(localcloud, capsys, monkeypatch, tmp_path) -> None:
    path = tmp_path / "secrets" / "operator-token"
    monkeypatch.setenv("LOCALCLOUD_OPERATOR_TOKEN_FILE", str(path))
    code, made = run(capsys, "operator-token")
    assert code == 0 and made == {"token_file": str(path)}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_text()
    assert run(capsys, "operator-token")[0] == 0 and path.read_text() == before, "an existing token is kept"
    # That is not the server's operator token: the server does not know it.
    code, err = run(capsys, "projects")
    assert code == 2 and "UNAUTHENTICATED: unknown token" in err
    code, err = run(capsys, "--token-file", str(tmp_path / "missing"), "projects")
    assert code == 2 and "no operator token file at" in err and "operator-token" in err


def test_mint_and_revoke_tokens(localcloud, capsys) -> None:
    code, minted = run(capsys, "mint-token", "--principal", "ci", "--project", P, "--ttl", "60")
    assert code == 0 and minted["projects"] == [P] and minted["token"].startswith("lct_")
    assert localcloud.client(minted["token"]).whoami() == {"principal": "ci", "projects": [P]}
    code, revoked = run(capsys, "revoke-token", minted["id"])
    assert revoked == {"revoked": minted["id"]}
    code, err = run(capsys, "revoke-token", "tok_nope")
    assert code == 2 and "no token 'tok_nope'" in err


def test_manage_py_runs_the_cli_with_hangars_settings(localcloud, capsys) -> None:
    """In a checkout, `manage.py localcloud list …` needs no --url or --token-file: it uses the settings."""
    from django.core.management import call_command

    localcloud.client().create_dataset("sc-5-ops-dev", "kpis")
    call_command("localcloud", "list", "--project", "sc-5-ops-dev")
    listed = json.loads(capsys.readouterr().out)
    assert [(r["type"], r["name"]) for r in listed] == [("dataset", "kpis")]
