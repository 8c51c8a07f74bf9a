"""The one client of the local cloud's HTTP API: used by the Terraform provider, the CLI and Hangar.

Standard library only (the provider runs as a zipapp with nothing but ``tf`` beside it). Errors
come back as the ``localcloud.errors`` class the server raised, with its message verbatim, so
a refusal such as ``PERMISSION_DENIED: run 12 may change sc-123-example-dev only, not
sc-2-victim-prod`` reaches Terraform's diagnostics (and a run's log) word for word.

Configuration: ``LOCALCLOUD_URL`` and ``LOCALCLOUD_TOKEN`` (the provider, anyone with a scoped
token), or the operator token file (``LOCALCLOUD_OPERATOR_TOKEN_FILE``, else
``<LOCALCLOUD_ROOT>/operator-token``) for the operator's tools and Hangar.
"""

import contextlib
import http.client
import json
import os
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from localcloud import errors

URL_ENV = "LOCALCLOUD_URL"
TOKEN_ENV = "LOCALCLOUD_TOKEN"
DEFAULT_URL = "http://127.0.0.1:8390"
REQUEST_TIMEOUT_SECONDS = 120.0  # above the store's 60 s busy timeout
# A server restarting mid-run is waited for this long before a call fails.
CONNECT_RETRY_SECONDS = 15.0


def _segment(value: str) -> str:
    return quote(str(value), safe="")


class Client:
    """Calls to one local cloud with one token; safe to share between threads."""

    def __init__(
        self, url: str | None = None, token: str | None = None, *, retry_seconds: float = CONNECT_RETRY_SECONDS
    ) -> None:
        self.url = (url or os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")
        parts = urlsplit(self.url)
        if parts.scheme != "http" or not parts.hostname:
            raise errors.InvalidValue(URL_ENV, self.url, "the local cloud's address, e.g. http://127.0.0.1:8390")
        self._host, self._port = parts.hostname, parts.port or 80
        self.token = token if token is not None else os.environ.get(TOKEN_ENV, "")
        self.retry_seconds = retry_seconds
        self._local = threading.local()  # one keep-alive connection per thread

    # -- transport ---------------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=REQUEST_TIMEOUT_SECONDS)
            self._local.conn = conn
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def request(self, method: str, path: str, body: dict | None = None, query: dict | None = None) -> object:
        """The decoded JSON answer; raises the server's error as a LocalCloudError."""
        target = "/v1/" + path.lstrip("/") + (f"?{urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else b""
        if not self.token:
            raise errors.Unauthenticated(
                f"UNAUTHENTICATED: no token for the local cloud at {self.url}: set {TOKEN_ENV} "
                "(runs get one from Hangar; the operator's tools read the operator token file)"
            )
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        deadline = time.monotonic() + self.retry_seconds
        reused = getattr(self._local, "conn", None) is not None
        while True:
            try:
                conn = self._connection()
                conn.request(method, target, body=data, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                break
            except (ConnectionRefusedError, http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError) as error:  # fmt: skip
                self._drop_connection()
                if reused:  # a kept-alive connection the server has closed: once more on a new one
                    reused = False
                    continue
                if time.monotonic() >= deadline:  # else wait for a (re)starting server, up to the deadline
                    raise errors.Unavailable(
                        f"UNAVAILABLE: cannot reach the local cloud at {self.url} ({error}); "
                        "is `python -m localcloud serve` running?"
                    ) from None
                time.sleep(0.25)
            except OSError as error:
                self._drop_connection()
                raise errors.Unavailable(f"UNAVAILABLE: local cloud at {self.url}: {error}") from None
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = {"error": {"message": raw[:200].decode("utf-8", "replace")}}
        if response.status >= 400:
            detail = payload.get("error") if isinstance(payload, dict) else None
            raise errors.from_payload(response.status, detail if isinstance(detail, dict) else {})
        return payload

    def get_or_none(self, path: str, query: dict | None = None) -> dict | None:
        """A read that reports a missing resource as None (what Terraform's read needs)."""
        try:
            return self.request("GET", path, query=query)  # type: ignore[return-value]
        except errors.NotFound:
            return None

    # -- tokens (operator) ---------------------------------------------------------------------
    def mint_token(self, principal: str, projects: list[str], ttl_seconds: int, read_only: bool = False) -> dict:
        """{"id", "token", "principal", "projects", "expires_at", "read_only"}; the token is shown only here."""
        body = {"principal": principal, "projects": list(projects), "ttl_seconds": int(ttl_seconds)}
        if read_only:
            body["read_only"] = True
        return self.request("POST", "tokens", body)  # type: ignore[return-value]

    def revoke_token(self, token_id: str) -> None:
        self.request("DELETE", f"tokens/{_segment(token_id)}")

    def whoami(self) -> dict:
        return self.request("GET", "token")  # type: ignore[return-value]

    # -- inventory -------------------------------------------------------------------------------
    def projects(self) -> list[str]:
        return self.request("GET", "projects")  # type: ignore[return-value]

    def list_resources(self, project: str, kind: str | None = None) -> list[dict]:
        query = {"type": kind} if kind else None
        return self.request("GET", f"projects/{_segment(project)}/resources", query=query)  # type: ignore[return-value]

    def _resource(self, project: str, kind: str, name: str) -> str:
        return f"projects/{_segment(project)}/resources/{_segment(kind)}/{_segment(name)}"

    def show(self, project: str, kind: str, name: str) -> dict:
        return self.request("GET", self._resource(project, kind, name))  # type: ignore[return-value]

    def delete(self, project: str, kind: str, name: str) -> dict:
        """Delete outside Terraform, contents and all."""
        return self.request("DELETE", self._resource(project, kind, name))  # type: ignore[return-value]

    def set_labels(self, project: str, kind: str, name: str, changes: dict[str, str | None]) -> dict:
        return self.request("POST", self._resource(project, kind, name) + "/labels", {"labels": changes})  # type: ignore[return-value]

    def query(self, project: str, dataset_id: str, sql: str) -> list[dict]:
        path = f"projects/{_segment(project)}/datasets/{_segment(dataset_id)}/query"
        return self.request("POST", path, {"sql": sql})  # type: ignore[return-value]

    def drop_column(self, project: str, dataset_id: str, table_id: str, column: str) -> dict:
        return self.request("POST", self._table(project, dataset_id, table_id) + "/drop-column", {"column": column})  # type: ignore[return-value]

    # -- services (what the provider does) ---------------------------------------------------------
    def _dataset(self, project: str, dataset_id: str) -> str:
        return f"projects/{_segment(project)}/datasets/{_segment(dataset_id)}"

    def _table(self, project: str, dataset_id: str, table_id: str) -> str:
        return f"{self._dataset(project, dataset_id)}/tables/{_segment(table_id)}"

    def create_dataset(self, project: str, dataset_id: str, **fields: object) -> dict:
        body = {"dataset_id": dataset_id, **fields}
        return self.request("POST", f"projects/{_segment(project)}/datasets", body)  # type: ignore[return-value]

    def get_dataset(self, project: str, dataset_id: str) -> dict | None:
        return self.get_or_none(self._dataset(project, dataset_id))

    def update_dataset(self, project: str, dataset_id: str, **fields: object) -> dict:
        return self.request("PATCH", self._dataset(project, dataset_id), fields)  # type: ignore[return-value]

    def delete_dataset(self, project: str, dataset_id: str, delete_contents: bool = False) -> None:
        query = {"delete_contents": "true"} if delete_contents else None
        self.request("DELETE", self._dataset(project, dataset_id), query=query)

    def create_table(self, project: str, dataset_id: str, table_id: str, spec: dict) -> dict:
        body = {"table_id": table_id, **spec}
        return self.request("POST", self._dataset(project, dataset_id) + "/tables", body)  # type: ignore[return-value]

    def get_table(self, project: str, dataset_id: str, table_id: str) -> dict | None:
        return self.get_or_none(self._table(project, dataset_id, table_id))

    def update_table(self, project: str, dataset_id: str, table_id: str, spec: dict) -> dict:
        return self.request("PUT", self._table(project, dataset_id, table_id), spec)  # type: ignore[return-value]

    def delete_table(self, project: str, dataset_id: str, table_id: str) -> None:
        self.request("DELETE", self._table(project, dataset_id, table_id))

    def _account(self, project: str, account_id: str) -> str:
        return f"projects/{_segment(project)}/serviceAccounts/{_segment(account_id)}"

    def create_service_account(self, project: str, account_id: str, **fields: object) -> dict:
        body = {"account_id": account_id, **fields}
        return self.request("POST", f"projects/{_segment(project)}/serviceAccounts", body)  # type: ignore[return-value]

    def get_service_account(self, project: str, account_id: str) -> dict | None:
        return self.get_or_none(self._account(project, account_id))

    def update_service_account(self, project: str, account_id: str, **fields: object) -> dict:
        return self.request("PATCH", self._account(project, account_id), fields)  # type: ignore[return-value]

    def delete_service_account(self, project: str, account_id: str) -> None:
        self.request("DELETE", self._account(project, account_id))

    def create_bucket(self, project: str, name: str, **fields: object) -> dict:
        body = {"name": name, **fields}
        return self.request("POST", f"projects/{_segment(project)}/buckets", body)  # type: ignore[return-value]

    def get_bucket(self, name: str) -> dict | None:
        return self.get_or_none(f"buckets/{_segment(name)}")

    def update_bucket(self, name: str, **fields: object) -> dict:
        return self.request("PATCH", f"buckets/{_segment(name)}", fields)  # type: ignore[return-value]

    def delete_bucket(self, name: str, force: bool = False) -> None:
        self.request("DELETE", f"buckets/{_segment(name)}", query={"force": "true"} if force else None)

    def _environment(self, project: str, name: str) -> str:
        return f"projects/{_segment(project)}/environments/{_segment(name)}"

    def create_environment(self, project: str, name: str, spec: dict) -> dict:
        body = {"name": name, **spec}
        return self.request("POST", f"projects/{_segment(project)}/environments", body)  # type: ignore[return-value]

    def get_environment(self, project: str, name: str) -> dict | None:
        return self.get_or_none(self._environment(project, name))

    def update_environment(self, project: str, name: str, spec: dict) -> dict:
        return self.request("PUT", self._environment(project, name), spec)  # type: ignore[return-value]

    def delete_environment(self, project: str, name: str) -> None:
        self.request("DELETE", self._environment(project, name))

    def set_binding(self, target: str, role: str, members: list[str], prefix: str = "") -> dict:
        body = {"target": target, "role": role, "members": list(members), "prefix": prefix}
        return self.request("PUT", "iam/bindings", body)  # type: ignore[return-value]

    def get_binding(self, binding_id: str) -> dict | None:
        return self.get_or_none("iam/bindings", {"id": binding_id})

    def delete_binding(self, binding_id: str) -> None:
        self.request("DELETE", "iam/bindings", query={"id": binding_id})

    def add_member(self, target: str, role: str, member: str, prefix: str = "") -> dict:
        body = {"target": target, "role": role, "member": member, "prefix": prefix}
        return self.request("POST", "iam/members", body)  # type: ignore[return-value]

    def get_member(self, grant_id: str) -> dict | None:
        return self.get_or_none("iam/members", {"id": grant_id})

    def remove_member(self, grant_id: str) -> None:
        self.request("DELETE", "iam/members", query={"id": grant_id})


def operator_client(url: str | None = None, token_file: Path | str | None = None, **options: object) -> Client:
    """A client with the operator token, read from `token_file` (default: as the server finds it)."""
    from localcloud.tokens import default_token_file, read_operator_token

    return Client(url, read_operator_token(token_file or default_token_file()), **options)  # type: ignore[arg-type]


def mint_token(
    principal: str,
    projects: list[str],
    ttl_seconds: int,
    *,
    url: str | None = None,
    token_file: Path | str | None = None,
    read_only: bool = False,
) -> dict:
    """Hangar's call: a token for `principal` valid only for `projects`, for `ttl_seconds` (only reads: `read_only`)."""
    return operator_client(url, token_file).mint_token(principal, projects, ttl_seconds, read_only)


def revoke_token(token_id: str, *, url: str | None = None, token_file: Path | str | None = None) -> None:
    """Hangar's call when a run ends; a token already gone (pruned) is not an error."""
    with contextlib.suppress(errors.NotFound):
        operator_client(url, token_file).revoke_token(token_id)
