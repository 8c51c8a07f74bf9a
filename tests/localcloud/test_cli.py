import json

from localcloud import bigquery, cli
from localcloud.store import Store

P = "sc-123-example-dev"


def run(capsys, root, *args: str) -> tuple[int, object]:
    code = cli.main(["--root", str(root), *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else err)


def test_list_show_set_label_delete(tmp_path, capsys) -> None:
    root = tmp_path / "cloud"
    store = Store(root)
    bigquery.create_dataset(store, P, "kpis", labels={"team": "data"})
    bigquery.create_table(store, P, "kpis", "t", {"schema": '[{"name": "id", "type": "STRING"}]'})

    code, listed = run(capsys, root, "list", "--project", P)
    assert code == 0 and [(r["type"], r["name"]) for r in listed] == [("dataset", "kpis"), ("table", "kpis.t")]
    assert listed[1]["columns"] == [{"name": "id", "type": "STRING", "mode": "NULLABLE"}]

    code, shown = run(capsys, root, "set-label", "--project", P, "dataset", "kpis", "team=", "owner=me")
    assert shown == {"labels": {"owner": "me"}}

    code, rows = run(capsys, root, "sql", "--project", P, "kpis", "INSERT INTO t VALUES ('x') RETURNING id")
    assert rows == [{"id": "x"}]

    code, _ = run(capsys, root, "delete", "--project", P, "table", "kpis.t")
    code, listed = run(capsys, root, "list", "--project", P)
    assert [r["name"] for r in listed] == ["kpis"]


def test_errors_are_clear(tmp_path, capsys) -> None:
    code, err = run(capsys, tmp_path, "show", "--project", P, "dataset", "nope")
    assert code == 2 and "no dataset 'nope'" in err
    code, err = run(capsys, tmp_path, "list", "--project", "Bad_Project")
    assert code == 0  # an unknown project simply has nothing


def test_root_from_environment(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("LOCALCLOUD_ROOT", str(tmp_path / "env-root"))
    bigquery.create_dataset(Store(), P, "kpis")
    assert cli.main(["projects"]) == 0
    assert json.loads(capsys.readouterr().out) == [P]
