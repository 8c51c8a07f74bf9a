"""`python -m localcloud serve`: the HTTP JSON service that owns the local cloud's store.

Terraform's provider, the operator's CLI and Hangar are its clients; none of them opens the
store itself, so a Terraform run needs no access to the local cloud's files, only a token.
Standard library only (``http.server``): one thread per request, SQLite does the queueing.

Every request carries ``Authorization: Bearer <token>``. Answers are JSON; an error is
``{"error": {"code": ..., "message": ..., "field": ...}}`` with the matching HTTP status.
"""

import json
import logging
import sqlite3
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from localcloud import api, tokens
from localcloud.errors import InvalidValue, LocalCloudError
from localcloud.store import Store

log = logging.getLogger("localcloud.server")
MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8390


class LocalCloudServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Terraform applies 10 resources at once by default, and every provider thread opens its own keep-alive
    # connection. With socketserver's default backlog of 5, connections beyond it were dropped while the accept
    # loop caught up, and the client's TCP stack retried them a second later: "Creation complete after 1s"
    # for a table that takes milliseconds.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], store: Store, token_file: Path) -> None:
        super().__init__(address, Handler)
        self.store = store
        self.token_file = token_file
        self.operator_token = tokens.ensure_operator_token(token_file)
        tokens.ensure_schema(store)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class Handler(BaseHTTPRequestHandler):
    server: LocalCloudServer
    protocol_version = "HTTP/1.1"  # keep-alive: the provider makes many small calls
    disable_nagle_algorithm = True  # headers and body leave at once, no 40 ms delayed-ACK stalls
    server_version = "localcloud"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        url = urlsplit(self.path)
        try:
            body = self._body()
            principal = tokens.authenticate(
                self.server.store, self.server.operator_token, self.headers.get("Authorization")
            )
            query = dict(parse_qsl(url.query, keep_blank_values=True))
            status, payload = api.dispatch(self.server.store, principal, self.command, url.path, query, body)
        except LocalCloudError as error:
            status, payload = error.status, {"error": _error_payload(error)}
        except sqlite3.Error as error:  # e.g. an operator's change SQLite cannot make
            status, payload = 409, {"error": {"code": "FAILED_PRECONDITION", "message": f"sqlite: {error}"}}
        except Exception as error:  # a bug: say so, keep serving
            log.exception("%s %s failed", self.command, url.path)
            status = 500
            payload = {"error": {"code": "INTERNAL", "message": f"local cloud failed: {type(error).__name__}: {error}"}}
        self._send(status, payload)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise InvalidValue("body", f"{length} bytes", f"at most {MAX_BODY_BYTES} bytes")
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError as error:
            raise InvalidValue("body", raw[:80].decode("utf-8", "replace"), f"a JSON object ({error})") from None
        if not isinstance(body, dict):
            raise InvalidValue("body", type(body).__name__, "a JSON object")
        return body

    def _send(self, status: int, payload: object) -> None:
        data = json.dumps(payload, sort_keys=True, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)


def _error_payload(error: LocalCloudError) -> dict:
    payload: dict = {"code": error.code, "message": error.message, "field": error.field}
    if isinstance(error, InvalidValue):
        payload |= {"found": error.found, "allowed": error.allowed}
    return payload


def make_server(
    root: Path | str | None, host: str, port: int, token_file: Path | str | None = None
) -> LocalCloudServer:
    store = Store(root)
    path = Path(token_file) if token_file else tokens.default_token_file(store.root)
    return LocalCloudServer((host, port), store, path)


def serve(root: Path | str | None, host: str, port: int, token_file: Path | str | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="localcloud: %(message)s", stream=sys.stderr)
    server = make_server(root, host, port, token_file)
    # One line on stdout once the socket is listening: launchers wait for it.
    print(f"localcloud serving {server.store.root} on {server.url} (operator token: {server.token_file})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def serve_in_thread(root: Path | str, token_file: Path | str | None = None) -> LocalCloudServer:
    """A server on a free port in a background thread of this process (tests of the API itself)."""
    server = make_server(root, DEFAULT_HOST, 0, token_file)
    threading.Thread(target=server.serve_forever, name="localcloud-server", daemon=True).start()
    return server
