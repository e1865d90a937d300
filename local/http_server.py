"""The emulator's HTTPS listener, the one Lambda workers call: cheroot serving moto's WSGI app.

werkzeug's development server, which ``moto_server`` uses, answers every request with
``Connection: close`` and starts a thread per connection, so each SDK call from a Lambda worker
paid a TCP connect, a thread start and a full TLS handshake; a payment makes about thirty such
calls. cheroot keeps connections alive (idle ones wait in a selector, not in a thread) and serves
from a pool. One boto3 client's sequential STS calls over HTTPS: werkzeug 19 ms, cheroot 7 ms
(p50, this machine).

Only the workers' listener runs here. The plain-HTTP listener that Terraform uses stays on
werkzeug: served by cheroot too, the Terraform provider saw transport errors on reused
connections and its SDK's retry of a create answered AlreadyExists (two CI runs out of two).
boto3 checks a pooled connection before reusing it; 8,800 calls from 10-16 concurrent clients
with idle pauses beyond the idle timeout lost no response (no retries allowed).

What moto's werkzeug request handler added is lost: it kept the original spelling of S3
metadata headers with underscores (``x-amz-meta-a_b`` comes back as ``a-b`` here); nothing in
this project stores such metadata.

The pool grows when every thread is busy: a ``StartSyncExecution`` holds its thread while the
workflow runs, and the workflow's Lambda tasks and their SDK calls come back through the same
listener, so a fixed pool would deadlock under enough concurrent payments. It starts large
because growing pauses the accept loop (cheroot waits for each new thread to be ready).
"""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

MIN_THREADS = 64
MAX_THREADS = 1024
GROW_BY = 32
IDLE_TIMEOUT_S = 600
# Connections the kernel holds for a listener before it accepts them (the listen backlog).
ACCEPT_BACKLOG = 128


class BackloggedHTTPServer(ThreadingHTTPServer):
    """The standard library's threading server with a listen backlog that a burst of clients
    fits in. Its default of 5 made a local API busy elsewhere refuse connections: at concurrency
    16 ``make load`` saw 2 of 64 requests end in ``ConnectionResetError``."""

    request_queue_size = ACCEPT_BACKLOG
    daemon_threads = True


class _GrowingServer(wsgi.Server):
    # cheroot keeps at most 10 idle connections by default; every Lambda worker, the Terraform
    # provider and the Step Functions interpreter each hold their own.
    keep_alive_conn_limit = 1024

    def process_conn(self, conn: Any) -> None:
        pool = self.requests
        if pool.idle == 0:
            pool.grow(GROW_BY)
        super().process_conn(conn)


def _with_raw_uri(application: Any) -> Any:
    """moto reads the undecoded path from ``RAW_URI``, werkzeug's name for it, to check SigV4
    signatures (a Lambda ARN in an invoke path is percent-encoded when signed); cheroot calls
    the same value ``REQUEST_URI``."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        environ.setdefault("RAW_URI", environ.get("REQUEST_URI", ""))
        return application(environ, start_response)

    return app


class Listener:
    """One listening socket serving ``application``; HTTPS when a certificate is given."""

    def __init__(
        self,
        host: str,
        port: int,
        application: Any,
        *,
        certificate: tuple[Path, Path] | None = None,
    ) -> None:
        self._server = _GrowingServer(
            (host, port),
            _with_raw_uri(application),
            numthreads=MIN_THREADS,
            max=MAX_THREADS,
            request_queue_size=ACCEPT_BACKLOG,
            # Warm workers keep their connection between invocations, often for minutes; a long
            # idle limit keeps the server from closing one just as a worker reuses it.
            timeout=IDLE_TIMEOUT_S,
            shutdown_timeout=2,
        )
        if certificate is not None:
            cert, key = certificate
            self._server.ssl_adapter = BuiltinSSLAdapter(str(cert), str(key))
        self._server.prepare()  # binds now, so the port is known before serving starts
        self._thread: threading.Thread | None = None

    @property
    def server_port(self) -> int:
        return int(self._server.bind_addr[1])

    def serve_forever(self) -> None:
        self._server.serve()

    def start(self, name: str) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name=name, daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        self._server.stop()
