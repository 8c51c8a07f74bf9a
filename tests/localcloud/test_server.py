"""The local cloud service's listening socket."""

import socket
from contextlib import ExitStack

from localcloud.server import LocalCloudServer
from localcloud.store import Store


def test_a_burst_of_connections_waits_in_the_backlog_instead_of_being_dropped(tmp_path) -> None:
    """Terraform applies 10 resources at once, each provider thread on a connection of its own. While the accept
    loop is busy, new connections must queue: a dropped one is retried by TCP only a second later."""
    server = LocalCloudServer(("127.0.0.1", 0), Store(tmp_path / "cloud"), tmp_path / "operator-token")
    try:
        # Nobody accepts: every connection below can only wait in the kernel's backlog. Loopback completes a
        # handshake at once; a dropped one would wait for TCP's retry, past the deadline.
        with ExitStack() as stack:
            for _ in range(40):
                stack.enter_context(socket.create_connection(server.server_address, timeout=0.5))
    finally:
        server.server_close()
