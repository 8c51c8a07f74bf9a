"""Tokens: who may call the local cloud, for how long, and what survives a restart."""

import http.client
import json
import sqlite3
import stat
import time
from urllib.parse import urlsplit

import pytest

from localcloud import tokens
from localcloud.errors import InvalidValue, PermissionDenied, Unauthenticated
from localcloud.launcher import ServerProcess
from localcloud.store import Store

P = "sc-123-example-dev"


def refused(client) -> str:
    with pytest.raises(Unauthenticated) as error:
        client.projects()
    return error.value.message


def test_revoked_token_is_refused(localcloud) -> None:
    operator = localcloud.client()
    minted = operator.mint_token("run 12", [P], 600)
    run = localcloud.client(minted["token"])
    assert run.projects() == []
    operator.revoke_token(minted["id"])
    assert refused(run).startswith("UNAUTHENTICATED: the token of run 12 was revoked at ")
    assert minted["id"] not in [t["id"] for t in operator.request("GET", "tokens")]


def test_expired_token_is_refused(localcloud) -> None:
    run = localcloud.client(localcloud.client().mint_token("run 13", [P], 1)["token"])
    assert run.projects() == []
    deadline = time.monotonic() + 10
    while True:  # the token lives one second; wait for it to lapse, with a deadline
        try:
            run.projects()
        except Unauthenticated as error:
            assert error.message.startswith("UNAUTHENTICATED: the token of run 13 expired at ")
            break
        assert time.monotonic() < deadline, "a one-second token was still accepted after 10 s"
        time.sleep(0.1)


def test_unknown_and_missing_tokens(localcloud) -> None:
    assert refused(localcloud.client("lct_made-up")) == (
        "UNAUTHENTICATED: unknown token (not issued by this local cloud, or long expired)"
    )
    assert "set LOCALCLOUD_TOKEN" in refused(localcloud.client(""))
    address = urlsplit(localcloud.url)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    conn.request("GET", "/v1/projects")  # no Authorization header at all
    response = conn.getresponse()
    body = json.loads(response.read())
    conn.close()
    assert response.status == 401 and body["error"]["code"] == "UNAUTHENTICATED"
    assert body["error"]["message"] == "UNAUTHENTICATED: no token; send Authorization: Bearer <token>"


def test_bad_mint_requests_name_the_field(localcloud) -> None:
    operator = localcloud.client()
    for body, field in (
        ({"principal": "", "projects": [P]}, "principal"),
        ({"principal": "run 1", "projects": []}, "projects"),
        ({"principal": "run 1", "projects": ["Not_A_Project"]}, "projects"),
        ({"principal": "run 1", "projects": [P], "ttl_seconds": 0}, "ttl_seconds"),
    ):
        with pytest.raises(InvalidValue) as error:
            operator.request("POST", "tokens", body)
        assert error.value.field == field, body


def test_operator_token_file_is_private(localcloud) -> None:
    assert stat.S_IMODE(localcloud.token_file.stat().st_mode) == 0o600
    assert localcloud.operator_token.startswith("lco_")


def test_only_a_hash_of_each_token_is_kept(localcloud) -> None:
    minted = localcloud.client().mint_token("run 14", [P], 60)
    with sqlite3.connect(localcloud.root / "control.sqlite3") as db:
        rows = db.execute("SELECT * FROM tokens").fetchall()
    assert rows and all(minted["token"] not in str(value) for row in rows for value in row)


def test_tokens_survive_a_server_restart(tmp_path) -> None:
    """A run's token keeps working when the local cloud restarts under it (and the client waits for it)."""
    with ServerProcess(tmp_path / "cloud") as server:
        token = server.client().mint_token("run 15", [P], 600)["token"]
        run = server.client(token)
        run.create_dataset(P, "kpis")
        server.restart()
        assert run.get_dataset(P, "kpis")["dataset_id"] == "kpis"


def test_long_expired_tokens_are_pruned(tmp_path) -> None:
    store = Store(tmp_path / "cloud")
    tokens.ensure_schema(store)
    old = tokens.mint(store, "run 1", [P], 60)
    with store.session(write=True) as conn:
        conn.execute(
            "UPDATE tokens SET expires_at = ? WHERE id = ?", (time.time() - tokens.PRUNE_AFTER_SECONDS - 1, old["id"])
        )
    tokens.mint(store, "run 2", [P], 60)
    with store.session() as conn:
        assert [row[0] for row in conn.execute("SELECT principal FROM tokens")] == ["run 2"]


def test_a_read_only_token_reads_its_projects_and_changes_nothing(localcloud) -> None:
    operator = localcloud.client()
    operator.create_dataset(P, "reports", description="Reports")
    minted = operator.mint_token("speculative plan 3", [P], 600, read_only=True)
    assert minted["read_only"] is True
    reader = localcloud.client(minted["token"])
    assert [r["name"] for r in reader.list_resources(P)] == ["reports"]
    with pytest.raises(PermissionDenied) as error:
        reader.create_dataset(P, "stolen")
    assert error.value.message == (
        f"PERMISSION_DENIED: speculative plan 3 may only read; it may not POST /v1/projects/{P}/datasets"
    )
    with pytest.raises(PermissionDenied):
        reader.delete(P, "dataset", "reports")
    assert [r["name"] for r in operator.list_resources(P)] == ["reports"]
    with pytest.raises(InvalidValue):
        operator.request("POST", "tokens", {"principal": "x", "projects": [P], "ttl_seconds": 60, "read_only": "yes"})
