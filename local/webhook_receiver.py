"""A webhook test receiver on the emulator's machine: an HTTP server the local Lambda workers can
reach (they run on this host), which keeps every delivery it gets and answers with the status
codes it is told to (500 twice, then 200: the sender's retries).

    python -m local.webhook_receiver --port 8089 [--secret whsec_...] [--fail-first 2]

prints each delivery (event id and type, attempt time, whether its signature verifies with
``--secret``) as it arrives. Tests use ``WebhookReceiver`` as a context manager.

It listens on plain http on 127.0.0.1: only environments/local admits such an endpoint
(modules/webhooks' endpoint_policy; every other environment requires https on a public host).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from functions.domain.webhook_signatures import SIGNATURE_HEADER, SignatureError, verify
from local.http_server import BackloggedHTTPServer

MAX_BODY = 256 * 1024


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value

    @property
    def signature(self) -> str:
        return self.headers.get(SIGNATURE_HEADER.lower(), "")


class WebhookReceiver:
    """Keeps every POST; answers ``answers`` in turn (then 200 for ever)."""

    def __init__(self, answers: Sequence[int] = (), host: str = "127.0.0.1", port: int = 0):
        self._answers = list(answers)
        self._lock = threading.Condition()
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
                body = self.rfile.read(length)
                status = receiver._next_answer()
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver._keep(Received(self.path, headers, body, time.time(), status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the receiver's own printout says what arrived

        self._server = BackloggedHTTPServer((host, port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _next_answer(self) -> int:
        with self._lock:
            return self._answers.pop(0) if self._answers else 200

    def _keep(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)
            self._lock.notify_all()

    def wait_for(
        self, done: Callable[[list[Received]], bool], timeout: float = 60.0
    ) -> list[Received]:
        """Every delivery so far, once ``done`` holds for them (TimeoutError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not done(list(self.received)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.received)} deliveries, not the ones awaited")
                self._lock.wait(left)
            return list(self.received)

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def describe(received: Received, secrets: Sequence[str]) -> str:
    try:
        event = received.event
        what = f"{event.get('type')} {event.get('id')}"
    except ValueError:
        what = "(not JSON)"
    check = ""
    if secrets:
        try:
            verify(received.body, received.signature, secrets)
            check = " signature ok"
        except SignatureError as error:
            check = f" signature REFUSED ({error})"
    return (
        f"{time.strftime('%H:%M:%S', time.gmtime(received.at))} {received.answered} {what}{check}"
    )


@contextmanager
def printing(receiver: WebhookReceiver, secrets: Sequence[str]) -> Iterator[None]:
    printed = 0
    stop = threading.Event()

    def loop() -> None:
        nonlocal printed
        while not stop.wait(0.2):
            for received in receiver.received[printed:]:
                print(describe(received, secrets), flush=True)
                printed += 1

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--secret", action="append", default=[], help="whsec_... (repeatable)")
    parser.add_argument("--fail-first", type=int, default=0, help="answer 500 this many times")
    args = parser.parse_args(argv)
    with WebhookReceiver([500] * args.fail_first, args.host, args.port) as receiver:
        print(f"receiving on {receiver.url} (Ctrl-C stops)", flush=True)
        with printing(receiver, args.secret), suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
