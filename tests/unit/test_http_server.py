from __future__ import annotations

import http.client
from typing import Any

from local.http_server import Listener


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
