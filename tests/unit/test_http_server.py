from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.api_gateway import LocalApiGateway
from local.http_server import BackloggedHTTPServer, Listener
from local.webhook_receiver import WebhookReceiver


def _echo_raw_uri(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["RAW_URI"].encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def test_one_connection_serves_many_requests_and_moto_sees_the_undecoded_path() -> None:
    listener = Listener("127.0.0.1", 0, _echo_raw_uri)
    listener.start("test-listener")
    try:
        connection = http.client.HTTPConnection("127.0.0.1", listener.server_port, timeout=5)
        sockets = set()
        for path in ("/2015-03-31/functions/arn%3Aaws%3Alambda%3Afn/invocations", "/second"):
            connection.request("POST", path, body=b"{}")
            reply = connection.getresponse()
            assert reply.read().decode() == path  # percent-encoding kept, as SigV4 signed it
            assert reply.getheader("Connection") != "close"
            sockets.add(id(connection.sock))
        assert len(sockets) == 1  # kept alive: no new TCP (or TLS) handshake per SDK call
        connection.close()
    finally:
        listener.shutdown()


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _burst(server: ThreadingHTTPServer, clients: int) -> list[int]:
    """``clients`` connections opened while the server is busy elsewhere (not accepting),
    then served: the status each got, 0 for a connection the kernel did not take."""
    host, port = server.server_address[:2]
    connections: list[http.client.HTTPConnection | None] = []
    for _ in range(clients):
        connection = http.client.HTTPConnection(str(host), port, timeout=0.2)
        try:
            connection.connect()
        except OSError:  # the kernel dropped the SYN: the accept queue was full
            connections.append(None)
        else:
            connections.append(connection)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    statuses = []
    try:
        for held in connections:
            if held is None:
                statuses.append(0)
                continue
            held.timeout = 5
            held.request("GET", "/")
            statuses.append(held.getresponse().status)
            held.close()
    finally:
        server.shutdown()
        server.server_close()
    return statuses


def test_a_burst_of_clients_to_a_busy_server_is_held_until_it_accepts_them() -> None:
    assert _burst(BackloggedHTTPServer(("127.0.0.1", 0), _Ok), 32) == [200] * 32


def test_the_standard_backlog_refuses_such_a_burst() -> None:
    """Why the local API and the webhook receiver do not use the standard library's server."""
    assert 0 in _burst(ThreadingHTTPServer(("127.0.0.1", 0), _Ok), 16)


def test_the_local_api_and_the_webhook_receiver_hold_a_burst() -> None:
    api = LocalApiGateway("127.0.0.1", 0, lambda *args: None)  # type: ignore[arg-type]
    receiver = WebhookReceiver()
    try:
        assert isinstance(api.server, BackloggedHTTPServer)
        assert isinstance(receiver._server, BackloggedHTTPServer)
    finally:
        api.server.server_close()
        receiver._server.server_close()
