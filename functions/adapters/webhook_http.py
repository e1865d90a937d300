"""``WebhookSender`` over the standard library's ``http.client``, guarded against SSRF.

The endpoint's host is resolved here and every address it resolves to must be public
(``address_allowed``): a name registered while public that later resolves to 10.0.0.5, 127.0.0.1
or the metadata service at 169.254.169.254 is refused, and the connection goes to the address
that was checked, not to a second lookup. TLS is verified against the host name (SNI and the
certificate's name are the host's, not the address's). Redirects are never followed: a 3xx is
a failed attempt. Only the status code is kept: the receiver's body is read (at most a few KB,
so the connection can close cleanly) and dropped, never logged.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from functions.domain.webhooks import HttpAnswer, UrlPolicy, address_allowed

READ_LIMIT = 4096


class _PinnedHttps(http.client.HTTPSConnection):
    """HTTPS to an address already checked, verifying the certificate for the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHttp(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class HttpWebhookSender:
    def __init__(self, policy: UrlPolicy, timeout_seconds: float = 10.0) -> None:
        self._policy = policy
        self._timeout = timeout_seconds

    def _address(self, host: str, port: int) -> str:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [str(info[4][0]) for info in infos]
        if not addresses or not all(address_allowed(a, self._policy) for a in addresses):
            raise PermissionError("the endpoint's host resolves to an address not allowed")
        return addresses[0]

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpAnswer:
        started = time.perf_counter()

        def elapsed() -> int:
            return int((time.perf_counter() - started) * 1000)

        parts = urlsplit(url)
        secure = parts.scheme == "https"
        if not secure and not (parts.scheme == "http" and self._policy.allow_http):
            return HttpAnswer(None, 0, "scheme not allowed")
        host = parts.hostname or ""
        port = parts.port or (443 if secure else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            address = self._address(host, port)
        except PermissionError:
            return HttpAnswer(None, elapsed(), "address not allowed")
        except OSError:
            return HttpAnswer(None, elapsed(), "dns lookup failed")
        kind = _PinnedHttps if secure else _PinnedHttp
        connection = kind(host, port, address, self._timeout)
        try:
            connection.request("POST", path, body=body, headers=dict(headers))
            response = connection.getresponse()
            response.read(READ_LIMIT)
            return HttpAnswer(response.status, elapsed(), None)
        except TimeoutError:
            return HttpAnswer(None, elapsed(), "timeout")
        except ssl.SSLError:
            return HttpAnswer(None, elapsed(), "tls error")
        except (OSError, http.client.HTTPException) as error:
            return HttpAnswer(None, elapsed(), f"connection failed: {type(error).__name__}")
        finally:
            connection.close()
