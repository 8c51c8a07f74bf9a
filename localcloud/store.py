"""The control plane: one SQLite database under the root that records every resource.

Physical things (dataset databases, bucket directories, Composer folders) live beside it
under ``projects/<project>/``; the services in this package keep both in step, and ``read``
trusts the physical side so that changes made outside Terraform show up as drift.
"""

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from localcloud import validation

ROOT_ENV = "LOCALCLOUD_ROOT"
# Long enough for another Terraform process to finish its write transaction.
BUSY_TIMEOUT_SECONDS = 60.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    project TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    attrs TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (project, kind, name)
);
CREATE INDEX IF NOT EXISTS resources_by_kind ON resources (kind, name);
"""
_initialised: set[Path] = set()
_init_lock = threading.Lock()


def default_root() -> Path:
    """LOCALCLOUD_ROOT when set, else a folder in the user's data directory."""
    configured = os.environ.get(ROOT_ENV)
    if configured:
        return Path(configured)
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "hangar-localcloud"


@dataclass
class Record:
    project: str
    kind: str
    name: str
    attrs: dict


def connect_sqlite(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (we issue BEGIN ourselves) that waits for locks."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection, write: bool) -> Iterator[sqlite3.Connection]:
    # IMMEDIATE takes the write lock up front, so two writers queue on the busy
    # timeout instead of one failing with "database is locked" half-way through.
    conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def enable_wal(path: Path) -> None:
    conn = connect_sqlite(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()


class Store:
    """Records of one local cloud root, and where its physical things live."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root else default_root()
        self.db_path = self.root / "control.sqlite3"
        self._ensure_schema()

    def _ensure_schema(self) -> None:
        key = self.db_path.resolve() if self.db_path.exists() else self.db_path.absolute()
        with _init_lock:
            if key in _initialised and self.db_path.exists():
                return
            self.root.mkdir(parents=True, exist_ok=True)
            enable_wal(self.db_path)
            with self.session(write=True) as conn:
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    conn.execute(statement)
            _initialised.add(self.db_path.resolve())

    @contextmanager
    def session(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        conn = connect_sqlite(self.db_path)
        try:
            with transaction(conn, write):
                yield conn
        finally:
            conn.close()

    def read_one(self, sql: str, params: tuple = ()) -> tuple | None:
        """The first row of one read statement, on a connection this thread keeps open.

        For what every request reads first (its token): opening a connection costs more than the lookup.
        One statement in autocommit mode is its own transaction, and under WAL it sees every commit made
        before it, so a token revoked a moment ago is refused."""
        local = self.__dict__.setdefault("_readers", threading.local())
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = connect_sqlite(self.db_path)
        return conn.execute(sql, params).fetchone()

    # -- places ---------------------------------------------------------------
    def project_dir(self, project: str) -> Path:
        validation.project_id(project)  # also keeps the path inside the root
        return self.root / "projects" / project

    # -- records --------------------------------------------------------------
    def get(self, kind: str, project: str, name: str, conn: sqlite3.Connection | None = None) -> Record | None:
        if conn is None:
            with self.session() as own:
                return self.get(kind, project, name, own)
        row = conn.execute(
            "SELECT attrs FROM resources WHERE project = ? AND kind = ? AND name = ?", (project, kind, name)
        ).fetchone()
        return Record(project, kind, name, json.loads(row[0])) if row else None

    def put(self, conn: sqlite3.Connection, kind: str, project: str, name: str, attrs: dict) -> None:
        conn.execute(
            "INSERT INTO resources (project, kind, name, attrs) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (project, kind, name) DO UPDATE SET attrs = excluded.attrs, "
            "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            (project, kind, name, json.dumps(attrs, sort_keys=True)),
        )

    def remove(self, conn: sqlite3.Connection, kind: str, project: str, name: str) -> None:
        conn.execute("DELETE FROM resources WHERE project = ? AND kind = ? AND name = ?", (project, kind, name))

    def records(self, project: str | None = None, kind: str | None = None) -> list[Record]:
        query, params = "SELECT project, kind, name, attrs FROM resources WHERE 1 = 1", []
        if project is not None:
            query += " AND project = ?"
            params.append(project)
        if kind is not None:
            query += " AND kind = ?"
            params.append(kind)
        with self.session() as conn:
            rows = conn.execute(query + " ORDER BY project, kind, name", params).fetchall()
        return [Record(p, k, n, json.loads(a)) for p, k, n, a in rows]

    def find_by_name(self, kind: str, name: str) -> Record | None:
        """Bucket names are global, as in GCS: find one whatever its project."""
        with self.session() as conn:
            row = conn.execute(
                "SELECT project, attrs FROM resources WHERE kind = ? AND name = ?", (kind, name)
            ).fetchone()
        return Record(row[0], kind, name, json.loads(row[1])) if row else None
