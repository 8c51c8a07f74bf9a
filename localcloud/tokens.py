"""Who may call the local cloud: the operator token and scoped tokens.

The operator token lives in a file (0600) that only the server and the operator's tools read;
it may do anything, including minting scoped tokens. A scoped token names a principal (e.g.
``run 12``) and the projects it may read and change, and expires. Only a SHA-256 of each scoped
token is kept, in the store's control database, so a restarted server still accepts the tokens
of runs that are under way; tokens expired longer than ``PRUNE_AFTER_SECONDS`` are deleted.
"""

import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from localcloud import validation
from localcloud.errors import InvalidValue, NotFound, PermissionDenied, Unauthenticated
from localcloud.store import Store

TOKEN_FILE_ENV = "LOCALCLOUD_OPERATOR_TOKEN_FILE"
TOKEN_FILE_NAME = "operator-token"
OPERATOR = "operator"
MAX_TTL_SECONDS = 7 * 24 * 3600
# An expired token is still recognised for a while, so its holder learns it expired (not "unknown").
PRUNE_AFTER_SECONDS = 3600
_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    principal TEXT NOT NULL,
    projects TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    revoked_at REAL,
    read_only INTEGER NOT NULL DEFAULT 0
)
"""


def default_token_file(root: Path | str | None = None) -> Path:
    """$LOCALCLOUD_OPERATOR_TOKEN_FILE, else <root>/operator-token."""
    configured = os.environ.get(TOKEN_FILE_ENV)
    if configured:
        return Path(configured)
    from localcloud.store import default_root

    return Path(root) / TOKEN_FILE_NAME if root else default_root() / TOKEN_FILE_NAME


def ensure_operator_token(path: Path | str) -> str:
    """The operator token in `path`, written first (random, mode 0600) when the file is missing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_operator_token(path)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(new_secret("lco") + "\n")
    return read_operator_token(path)


def read_operator_token(path: Path | str) -> str:
    try:
        token = Path(path).read_text().strip()
    except FileNotFoundError:
        raise Unauthenticated(
            f"UNAUTHENTICATED: no operator token file at {path}; create it with `python -m localcloud operator-token`"
        ) from None
    if not token:
        raise Unauthenticated(f"UNAUTHENTICATED: the operator token file {path} is empty")
    return token


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    # Tokens are 256 random bits: a plain hash cannot be reversed by guessing.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """The caller of one request. `projects` is None for the operator (every project)."""

    name: str
    projects: tuple[str, ...] | None
    token_id: str | None = None
    read_only: bool = False  # may read its projects, never change anything (a speculative plan's token)

    @property
    def is_operator(self) -> bool:
        return self.projects is None

    def may(self, project: str) -> bool:
        return self.projects is None or project in self.projects

    def require(self, project: str) -> None:
        """Refuse a call on `project` unless it is one of the token's projects."""
        if not self.may(project):
            raise PermissionDenied(
                f"PERMISSION_DENIED: {self.name} may change {', '.join(self.projects or ())} only, not {project}"
            )

    def require_operator(self, what: str) -> None:
        if not self.is_operator:
            raise PermissionDenied(f"PERMISSION_DENIED: {self.name} may not {what}; that needs the operator token")


def ensure_schema(store: Store) -> None:
    with store.session(write=True) as conn:
        conn.execute(_SCHEMA)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(tokens)")}
        if "read_only" not in columns:  # a store made before read-only tokens existed
            conn.execute("ALTER TABLE tokens ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def mint(store: Store, principal: str, projects: list[str], ttl_seconds: int, read_only: bool = False) -> dict:
    """A new scoped token; the secret is returned once and never stored. A read-only token may only read."""
    if not isinstance(principal, str) or not principal.strip() or len(principal) > 200:
        raise InvalidValue("principal", principal, "a name of 1-200 characters, e.g. 'run 12'")
    if not isinstance(projects, list) or not projects:
        raise InvalidValue("projects", projects, "a list of at least one project id")
    scope = list(dict.fromkeys(validation.project_id(p, "projects") for p in projects))
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise InvalidValue("ttl_seconds", ttl_seconds, f"whole seconds from 1 to {MAX_TTL_SECONDS}")
    if not isinstance(read_only, bool):
        raise InvalidValue("read_only", read_only, "true or false")
    token, token_id, now = new_secret("lct"), "tok_" + secrets.token_hex(8), time.time()
    with store.session(write=True) as conn:
        conn.execute("DELETE FROM tokens WHERE expires_at < ?", (now - PRUNE_AFTER_SECONDS,))
        conn.execute(
            "INSERT INTO tokens (id, token_hash, principal, projects, created_at, expires_at, read_only) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (token_id, token_hash(token), principal.strip(), json.dumps(scope), now, now + ttl_seconds, int(read_only)),
        )
    return {"id": token_id, "token": token, "principal": principal.strip(), "projects": scope,
            "expires_at": _iso(now + ttl_seconds), "read_only": read_only}  # fmt: skip


def revoke(store: Store, token_id: str) -> dict:
    with store.session(write=True) as conn:
        row = conn.execute("SELECT principal FROM tokens WHERE id = ?", (token_id,)).fetchone()
        if row is None:
            raise NotFound(f"id: no token {token_id!r} (already pruned, or never issued)", "id")
        conn.execute("UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", (time.time(), token_id))
    return {"id": token_id, "principal": row[0], "revoked": True}


def active(store: Store) -> list[dict]:
    """Tokens that are neither expired nor revoked (never their secrets)."""
    with store.session() as conn:
        rows = conn.execute(
            "SELECT id, principal, projects, expires_at FROM tokens WHERE revoked_at IS NULL AND expires_at > ? "
            "ORDER BY created_at",
            (time.time(),),
        ).fetchall()
    return [{"id": i, "principal": p, "projects": json.loads(s), "expires_at": _iso(e)} for i, p, s, e in rows]


def authenticate(store: Store, operator_token: str, header: str | None) -> Principal:
    """The principal of an `Authorization: Bearer <token>` header; raises Unauthenticated."""
    scheme, _, presented = (header or "").strip().partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented:
        raise Unauthenticated("UNAUTHENTICATED: no token; send Authorization: Bearer <token>")
    if hmac.compare_digest(presented.encode(), operator_token.encode()):
        return Principal(OPERATOR, None)
    row = store.read_one(
        "SELECT id, principal, projects, expires_at, revoked_at, read_only FROM tokens WHERE token_hash = ?",
        (token_hash(presented),),
    )
    if row is None:
        raise Unauthenticated("UNAUTHENTICATED: unknown token (not issued by this local cloud, or long expired)")
    token_id, principal, projects, expires_at, revoked_at, read_only = row
    if revoked_at is not None:
        raise Unauthenticated(f"UNAUTHENTICATED: the token of {principal} was revoked at {_iso(revoked_at)}")
    if expires_at <= time.time():
        raise Unauthenticated(f"UNAUTHENTICATED: the token of {principal} expired at {_iso(expires_at)}")
    return Principal(principal, tuple(json.loads(projects)), token_id, bool(read_only))
