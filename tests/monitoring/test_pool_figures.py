"""dbopt's pool figures while the pool is still opening a connection.

`test_pool_utilization_sensor_with_the_server_filled` once read `dbopt_pool_in_use == 2`
with one connection in use: the pool opens its first connection in the background, a
request that finds it empty makes it grow, and while that second connection was being
opened "in use" was computed as size - idle. Here a gate in front of a real server holds
the pool's new connections, so that moment lasts as long as the test needs it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import psycopg
import pytest

from dbopt.monitoring import connections
from dbopt.postgres.connect import PgConnector

WAIT_S = 10


class Gate:
    """A TCP relay to a real PostgreSQL that lets connections through only when allowed."""

    def __init__(self, host: str, port: int, allowed: int) -> None:
        self.upstream = (host, port)
        self.allowed = threading.Semaphore(allowed)
        self.arrived = threading.Semaphore(0)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                self.sockets.append(client)
                threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        self.arrived.release()
        if not self.allowed.acquire(timeout=WAIT_S):
            client.close()
            return
        server = socket.create_connection(self.upstream)
        self.sockets.append(server)
        threading.Thread(target=self._pump, args=(server, client), daemon=True).start()
        self._pump(client, server)

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def wait_arrived(self, n: int) -> None:
        for _ in range(n):
            assert self.arrived.acquire(timeout=WAIT_S), "the pool did not open the expected connection"

    def close(self) -> None:
        for _ in range(16):
            self.allowed.release()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.close()


@pytest.fixture
def gate(pg_url: str) -> Iterator[tuple[Gate, str]]:
    params = psycopg.conninfo.conninfo_to_dict(pg_url)
    g = Gate(str(params.get("host") or "127.0.0.1"), int(params.get("port") or 5432), allowed=1)
    yield g, psycopg.conninfo.make_conninfo(pg_url, host="127.0.0.1", port=str(g.port))
    g.close()


def test_in_use_is_what_was_handed_out_not_what_is_being_opened(gate: tuple[Gate, str]) -> None:
    g, url = gate
    connector = PgConnector(url)
    try:
        connector.pool()  # its fail-fast probe goes through; the pool's first connection is held
        g.wait_arrived(2)
        figures: dict[str, int] = {}
        done = threading.Event()

        def step() -> None:  # what the monitoring asset does: measure while holding a pooled connection
            with connector.connection() as conn:
                figures.update(connections.measure(conn, connector).pool_figures())
            done.set()

        worker = threading.Thread(target=step)
        worker.start()
        g.wait_arrived(1)  # the request found the pool empty: it grows by a second connection, held too
        g.allowed.release()  # one of the two reaches the server and is handed to the request
        assert done.wait(WAIT_S), "the pooled connection never came"
        worker.join(WAIT_S)
        # One connection handed out, the other still being opened.
        assert figures["pool_in_use"] == 1, figures
        assert figures["pool_opening"] == 1 and figures["pool_size"] == 2 and figures["pool_idle"] == 0, figures
        assert connector.pool_stats()["connections_lent"] == 0
    finally:
        g.close()
        connector.close()
