"""A server socket the web process inherited gets TCP_NODELAY, and its connections with it
(Linux copies it to each accepted socket); connected sockets are left alone."""

from __future__ import annotations

import socket
import sys

import pytest

from reminders.entrypoints.web.tcp_nodelay import no_delay_on_server_sockets

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")


def nodelay(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_a_bound_socket_and_its_connections_get_nodelay():
    # As uvicorn --workers opens it: family only (proto 0), bound, not yet listening.
    server = socket.socket(family=socket.AF_INET)
    server.bind(("127.0.0.1", 0))
    other = socket.socket(family=socket.AF_INET)
    other.bind(("127.0.0.1", 0))
    other.listen()
    client = socket.create_connection(other.getsockname())
    accepted, _ = other.accept()
    with server, other, client, accepted:
        assert nodelay(server) == 0 and nodelay(client) == 0
        assert no_delay_on_server_sockets() >= 2
        assert nodelay(server) == 1 and nodelay(other) == 1
        assert nodelay(client) == 0 and nodelay(accepted) == 0  # connected: untouched
        server.listen()
        with socket.create_connection(server.getsockname()):
            conn, _ = server.accept()
            with conn:
                assert nodelay(conn) == 1
