"""An ``AcquirerConnector`` for a JSON-over-HTTPS acquirer API, with the standard library only.

The API it expects (every request is a POST with a JSON body and an ``Idempotency-Key`` header;
``Authorization: Bearer <credential>`` when a credential is configured; keys are scoped per
endpoint and a key sent again returns the first answer):

``POST /authorizations``
    ``{"payment_id", "merchant_id", "amount", "currency",
    "card": {"token", "brand", "last4", "exp_month", "exp_year"},
    "authentication": {"eci", "authentication_value", "exemption"}}``
    -> 200/201 ``{"approved": bool, "authorization_id": str | null,
    "decline_code": str | null, "network_reference": str | null}``.
    A decline is a 2xx answer with ``approved: false`` and a ``decline_code``.
``POST /authorizations/{authorization_id}/captures`` and ``.../refunds``
    ``{"amount", "currency"}`` -> ``{"operation_id": str, "amount": int}``
``POST /authorizations/{authorization_id}/voids``
    ``{}`` -> ``{"operation_id": str, "amount": int}``
``POST /voids``
    ``{"authorization_idempotency_key": str}``: void whatever the authorize call sent with that
    key did (used when its outcome was unknown); the header carries the same key.
``GET /operations/{idempotency_key}``
    -> ``{"status": "succeeded" | "failed", "kind": "capture" | "refund" | "void",
    "authorization_id": str, "amount": int, "currency": str}``; 404 when the acquirer has no
    operation under that key. How an operation whose answer was lost (a timeout) is resolved
    without sending it twice (``operation_status`` reads ``status`` only), and how a sale whose
    workflow died after its capture learns the authorization it was made under (``operation``).
``GET /settlement-batches?from=YYYY-MM-DD&through=YYYY-MM-DD&limit=N[&cursor=C]``
    -> ``{"batches": [{"batch_id", "value_date", "lines": [{"kind", "reference", "amount",
    "currency", "interchange_fee", "scheme_fee", "dispute_fee", "reason_code"}]}],
    "next_cursor": str | null}``: the settlement batches made in those days, at most ``limit``
    lines a page, a batch continued on the next page under the same ``batch_id``. ``kind`` and
    ``reference`` are those of ``SettlementLine`` (the reference is the idempotency key of the
    capture or refund, ``{payment_id}:chargeback:{dispute_id}`` for a dispute); amounts and fees
    in minor units. The settle function books them (SettlementSource); a batch already booked is
    skipped, so a window that overlaps the last run's is harmless.

Errors are ``{"error": {"code": str, "message": str}}``; only a well-formed ``code`` is kept,
the message and any other body text are never copied into our errors or logs.

Mapping: 5xx -> ``AcquirerUnavailableError`` (nothing happened), except 504, where a gateway
gave up waiting and the outcome is unknown -> ``AcquirerTimeoutError``; 429 ->
``AcquirerUnavailableError`` (throttled, nothing happened, retryable); other 4xx and 3xx
(redirects are never followed, so a credential never goes elsewhere) ->
``AcquirerRejectedError``. Transport: a failure while connecting or sending -> unavailable (the
acquirer cannot have the whole request); no answer within the per-call timeout, a broken
connection after sending, or a 2xx body that cannot be read -> ``AcquirerTimeoutError``.

The card travels as its vault token only; the PAN never passes through this process.

Credentials: a fixed ``credential``, or a ``CredentialSource`` such as ``SecretsManagerCredential``
(the bearer token is the secret's current value, read once per container). A 401 means the
acquirer refused the credential and did nothing, so the connector reads the source again and,
when the value changed (the secret was rotated), sends the same request once more with the new
one: a rotation needs no redeploy and no cold start. A 401 with an unchanged value is rejected.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from functions.domain.acquirer import (
    AcquirerConnector,
    AcquirerError,
    AcquirerOperation,
    AcquirerRejectedError,
    AcquirerTimeoutError,
    AcquirerUnavailableError,
    AuthorizationRequest,
    AuthorizationResult,
    ErrorCode,
    OperationKind,
    OperationResult,
    OperationStatus,
    SettlementBatch,
    SettlementKind,
    SettlementLine,
    SettlementSource,
    check_amount,
    check_authorization_id,
    check_authorization_request,
    check_currency,
    check_idempotency_key,
    decline_code,
)

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
_MAX_RESPONSE_BYTES = 64 * 1024
_ERROR_CODE = re.compile(r"[a-z0-9_]{1,64}")
_CREDENTIAL = re.compile(r"[\x21-\x7e]{1,4096}")


class CredentialSource(Protocol):
    """Where the connector's bearer token comes from."""

    def current(self) -> str:
        """The token, as last read (read on first use)."""
        ...

    def refresh(self) -> str:
        """The token read again: the acquirer refused the one ``current`` gave."""
        ...


class FixedCredential:
    def __init__(self, credential: str) -> None:
        self._credential = credential

    def current(self) -> str:
        return self._credential

    def refresh(self) -> str:
        return self._credential


class SecretsManagerCredential:
    """The token is the ``SecretString`` of a Secrets Manager secret (its ``AWSCURRENT``
    version), read on first use and again only when the acquirer refuses it. The value is
    never logged or put into an error. ``client`` is a boto3 ``secretsmanager`` client."""

    def __init__(self, client: Any, secret_id: str) -> None:
        self._client = client
        self._secret_id = secret_id
        self._value: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SecretsManagerCredential(secret_id={self._secret_id!r})"

    def current(self) -> str:
        with self._lock:
            if self._value is None:
                self._value = self._read()
            return self._value

    def refresh(self) -> str:
        with self._lock:
            self._value = self._read()
            return self._value

    def _read(self) -> str:
        try:
            value = self._client.get_secret_value(SecretId=self._secret_id).get("SecretString")
        except (BotoCoreError, ClientError):
            # No credential, no request: the acquirer was not asked, nothing happened.
            raise AcquirerUnavailableError(ErrorCode.CONNECTION_FAILED) from None
        if not isinstance(value, str) or _CREDENTIAL.fullmatch(value) is None:
            raise AcquirerUnavailableError(ErrorCode.CONNECTION_FAILED)
        return value


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# Lines asked for per settlement page: about 200 bytes each, so a page stays far below the
# answer size limit (_MAX_RESPONSE_BYTES).
SETTLEMENT_PAGE_LINES = 200
# How far back each settle run asks for batches. A batch is booked only once every line's
# operation is in the ledger (reconciliation posts missing ones); one still waiting after a
# month is an operator's case (the settlement-waiting alarm has fired every day by then).
SETTLEMENT_LOOKBACK_DAYS = 31
# A cursor sequence longer than this is an acquirer that never ends its answer.
_MAX_SETTLEMENT_PAGES = 10_000


class HttpAcquirerConnector(AcquirerConnector, SettlementSource):
    """``base_url``: ``https://host[:port][/prefix]``. Plain http only with
    ``allow_insecure_localhost=True`` and a host of 127.0.0.1 or localhost (tests, emulators).
    ``timeout_s`` bounds each call's connect and each read. ``credential``: a bearer token, or
    ``credentials``: where to read it (not both).
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float,
        credential: str | None = None,
        credentials: CredentialSource | None = None,
        allow_insecure_localhost: bool = False,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        local = parts.hostname in LOCAL_HOSTS
        if parts.scheme != "https" and not (
            parts.scheme == "http" and allow_insecure_localhost and local
        ):
            raise ValueError("the acquirer base URL must be https (http only for localhost)")
        if not parts.hostname or parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError("the acquirer base URL must be scheme://host[:port][/path] only")
        if not timeout_s > 0:
            raise ValueError("timeout_s must be positive")
        if credential is not None and _CREDENTIAL.fullmatch(credential) is None:
            raise ValueError("the credential must be visible ASCII characters")
        if credential is not None and credentials is not None:
            raise ValueError("give credential or credentials, not both")
        self._base_url = base_url.rstrip("/")
        self._timeout_s = timeout_s
        self._credentials = FixedCredential(credential) if credential is not None else credentials
        handlers: list[urllib.request.BaseHandler] = [
            _NoRedirects(),
            urllib.request.HTTPSHandler(context=ssl_context or ssl.create_default_context()),
        ]
        if local:
            # Loopback is never reached through a proxy from the environment.
            handlers.append(urllib.request.ProxyHandler({}))
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:
        return f"HttpAcquirerConnector(base_url={self._base_url!r}, timeout_s={self._timeout_s!r})"

    # -------------------------------------------------------------- the port

    def authorize(self, request: AuthorizationRequest) -> AuthorizationResult:
        check_authorization_request(request)
        card, sca = request.card, request.authentication
        body = {
            "payment_id": request.payment_id,
            "merchant_id": request.merchant_id,
            "amount": request.amount,
            "currency": request.currency,
            "card": {
                "token": card.token,
                "brand": card.brand,
                "last4": card.last4,
                "exp_month": card.exp_month,
                "exp_year": card.exp_year,
            },
            "authentication": {
                "eci": sca.eci,
                "authentication_value": sca.authentication_value,
                "exemption": sca.exemption,
            },
        }
        answer = self._post("/authorizations", request.idempotency_key, body)
        return _authorization_result(answer)

    def capture(
        self, authorization_id: str, amount: int, currency: str, idempotency_key: str
    ) -> OperationResult:
        return self._operation(authorization_id, "captures", amount, currency, idempotency_key)

    def refund(
        self, authorization_id: str, amount: int, currency: str, idempotency_key: str
    ) -> OperationResult:
        return self._operation(authorization_id, "refunds", amount, currency, idempotency_key)

    def void(self, authorization_id: str | None, idempotency_key: str) -> OperationResult:
        check_idempotency_key(idempotency_key)
        if authorization_id is None:
            body = {"authorization_idempotency_key": idempotency_key}
            return _operation_result(self._post("/voids", idempotency_key, body))
        path = f"/authorizations/{_segment(authorization_id)}/voids"
        return _operation_result(self._post(path, idempotency_key, {}))

    def operation_status(self, idempotency_key: str) -> OperationStatus:
        answer = self._operation_answer(idempotency_key)
        return OperationStatus.NOT_FOUND if answer is None else _operation_status(answer)

    def operation(self, idempotency_key: str) -> AcquirerOperation | None:
        answer = self._operation_answer(idempotency_key)
        if answer is None:
            return None
        kind = answer.get("kind")
        authorization_id = answer.get("authorization_id")
        amount = answer.get("amount")
        currency = answer.get("currency")
        if (
            kind not in tuple(OperationKind)
            or not isinstance(authorization_id, str)
            or isinstance(amount, bool)
            or not isinstance(amount, int)
            or amount < 0
            or not isinstance(currency, str)
        ):
            raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE)
        return AcquirerOperation(
            OperationKind(kind),
            idempotency_key,
            authorization_id,
            amount,
            currency,
            _operation_status(answer),
        )

    def _operation_answer(self, idempotency_key: str) -> dict[str, Any] | None:
        check_idempotency_key(idempotency_key)
        path = f"/operations/{urllib.parse.quote(idempotency_key, safe='')}"
        return self._send("GET", path, {}, None, missing_ok=True)

    def batches(self, through: dt.date, settled: frozenset[str]) -> list[SettlementBatch]:
        """The batches the acquirer made from ``SETTLEMENT_LOOKBACK_DAYS`` before ``through``
        to ``through``, every page read. ``settled`` is not needed: an acquirer's batches are
        fixed, and the settlement service skips the ones it booked. An answer that is not the
        documented shape raises ``AcquirerTimeoutError(INVALID_RESPONSE)``: nothing is booked
        from a page that cannot be read whole."""
        since = through - dt.timedelta(days=SETTLEMENT_LOOKBACK_DAYS)
        query = {
            "from": since.isoformat(),
            "through": through.isoformat(),
            "limit": str(SETTLEMENT_PAGE_LINES),
        }
        order: list[str] = []
        value_dates: dict[str, str] = {}
        lines: dict[str, list[SettlementLine]] = {}
        cursors: set[str] = set()
        for _ in range(_MAX_SETTLEMENT_PAGES):
            path = "/settlement-batches?" + urllib.parse.urlencode(query)
            answer = self._send("GET", path, {}, None, missing_ok=False)
            assert answer is not None  # only a missing_ok call answers None
            for batch_id, value_date, page_lines in _settlement_page(answer):
                if batch_id not in value_dates:
                    order.append(batch_id)
                    value_dates[batch_id] = value_date
                    lines[batch_id] = []
                elif value_dates[batch_id] != value_date:
                    raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE)
                lines[batch_id].extend(page_lines)
            cursor = _optional_str(answer, "next_cursor")
            if cursor is None:
                try:
                    return [SettlementBatch(b, value_dates[b], tuple(lines[b])) for b in order]
                except (ValueError, AcquirerError):
                    # A batch id the ledger cannot key, a reference settled twice, no lines.
                    raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE) from None
            if not cursor or cursor in cursors:
                raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE)
            cursors.add(cursor)
            query["cursor"] = cursor
        raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE)

    # -------------------------------------------------------------- HTTP

    def _operation(
        self, authorization_id: str, kind: str, amount: int, currency: str, idempotency_key: str
    ) -> OperationResult:
        path = f"/authorizations/{_segment(authorization_id)}/{kind}"
        check_amount(amount)
        check_currency(currency)
        check_idempotency_key(idempotency_key)
        body = {"amount": amount, "currency": currency}
        return _operation_result(self._post(path, idempotency_key, body))

    def _post(self, path: str, idempotency_key: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key}
        data = json.dumps(body, separators=(",", ":")).encode()
        answer = self._send("POST", path, headers, data, missing_ok=False)
        assert answer is not None  # only a missing_ok call answers None
        return answer

    def _send(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        data: bytes | None,
        *,
        missing_ok: bool,
    ) -> dict[str, Any] | None:
        headers = {"Accept": "application/json", **headers}
        credential = self._credentials.current() if self._credentials is not None else None
        try:
            return self._answer(self._exchange(method, path, headers, data, credential))
        except urllib.error.HTTPError as error:
            if error.code != 401 or self._credentials is None:
                return self._answer_error(error, missing_ok)
            error.close()
        # Refused credential, nothing done: a rotated secret is read and tried once.
        renewed = self._credentials.refresh()
        if renewed == credential:
            raise AcquirerRejectedError(ErrorCode.REJECTED)
        try:
            return self._answer(self._exchange(method, path, headers, data, renewed))
        except urllib.error.HTTPError as error:
            return self._answer_error(error, missing_ok)

    def _answer_error(
        self, error: urllib.error.HTTPError, missing_ok: bool
    ) -> dict[str, Any] | None:
        if missing_ok and error.code == 404:
            error.close()
            return None
        raise _status_error(error) from None

    @staticmethod
    def _answer(raw: bytes) -> dict[str, Any]:
        answer = _json_object(raw)
        if answer is None:
            raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE)
        return answer

    def _exchange(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        data: bytes | None,
        credential: str | None,
    ) -> bytes:
        """The answer's body; an ``HTTPError`` for a non-2xx status, our errors otherwise."""
        if credential is not None:
            headers = {**headers, "Authorization": f"Bearer {credential}"}
        request = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
            self._base_url + path, data=data, headers=headers, method=method
        )
        try:
            with self._opener.open(request, timeout=self._timeout_s) as response:
                return bytes(response.read(_MAX_RESPONSE_BYTES + 1))
        except urllib.error.HTTPError:
            raise
        except urllib.error.URLError:
            # urllib wraps failures of connect and send only: the request never got through.
            raise AcquirerUnavailableError(ErrorCode.CONNECTION_FAILED) from None
        except (OSError, http.client.HTTPException):
            # Sent, then no (whole) answer: read timeout, reset, truncated status line.
            raise AcquirerTimeoutError(ErrorCode.TIMEOUT) from None


def _segment(authorization_id: str) -> str:
    return urllib.parse.quote(check_authorization_id(authorization_id), safe="")


def _json_object(raw: bytes) -> dict[str, Any] | None:
    if len(raw) > _MAX_RESPONSE_BYTES:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _status_error(error: urllib.error.HTTPError) -> AcquirerError:
    status = error.code
    try:
        raw = error.read(_MAX_RESPONSE_BYTES + 1)
    except (OSError, http.client.HTTPException):
        raw = b""
    finally:
        error.close()
    code = _error_code(raw)
    if status == 504:
        return AcquirerTimeoutError(code or ErrorCode.TIMEOUT)
    if status >= 500:
        return AcquirerUnavailableError(code or ErrorCode.PROCESSING_ERROR)
    if status == 429:
        return AcquirerUnavailableError(code or ErrorCode.RATE_LIMITED)
    return AcquirerRejectedError(code or ErrorCode.REJECTED)


def _error_code(raw: bytes) -> str | None:
    answer = _json_object(raw)
    error = answer.get("error") if answer else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else None


def _optional_str(answer: dict[str, Any], name: str) -> str | None:
    value = answer.get(name)
    if value is not None and not isinstance(value, str):
        raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE)
    return value


def _authorization_result(answer: dict[str, Any]) -> AuthorizationResult:
    approved = answer.get("approved")
    authorization_id = _optional_str(answer, "authorization_id")
    decline = _optional_str(answer, "decline_code")
    network_reference = _optional_str(answer, "network_reference")
    if approved is True and authorization_id:
        return AuthorizationResult(True, authorization_id, None, network_reference)
    if approved is False and decline:
        # Soft (Visa 1A, Mastercard 65) and hard (lost, stolen) declines keep their class; a
        # reason we have no code for is still a decline: the generic one.
        return AuthorizationResult(False, None, decline_code(decline), network_reference)
    raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE)


def _settlement_page(answer: dict[str, Any]) -> list[tuple[str, str, list[SettlementLine]]]:
    batches = answer.get("batches")
    if not isinstance(batches, list):
        raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE)
    page: list[tuple[str, str, list[SettlementLine]]] = []
    for batch in batches:
        if not isinstance(batch, dict):
            raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE)
        raw_lines = batch.get("lines")
        if not isinstance(raw_lines, list):
            raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE)
        lines = [_settlement_line(line) for line in raw_lines]
        page.append((_text(batch.get("batch_id")), _text(batch.get("value_date")), lines))
    return page


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE)
    return value


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE)
    return value


def _settlement_line(raw: Any) -> SettlementLine:
    if not isinstance(raw, dict):
        raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE)
    try:
        return SettlementLine(
            SettlementKind(_text(raw.get("kind"))),
            _text(raw.get("reference")),
            _whole(raw.get("amount")),
            _text(raw.get("currency")),
            interchange_fee=_whole(raw.get("interchange_fee", 0)),
            scheme_fee=_whole(raw.get("scheme_fee", 0)),
            dispute_fee=_whole(raw.get("dispute_fee", 0)),
            reason_code=_text(raw.get("reason_code") or ""),
        )
    except (ValueError, AcquirerError):
        # An unknown kind, a reference that is not {payment}:{kind}:{id}, a bad amount or fee.
        raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE) from None


def _operation_status(answer: dict[str, Any]) -> OperationStatus:
    status = answer.get("status")
    if status in (OperationStatus.SUCCEEDED, OperationStatus.FAILED):
        return OperationStatus(status)
    raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE)


def _operation_result(answer: dict[str, Any]) -> OperationResult:
    operation_id = answer.get("operation_id")
    amount = answer.get("amount")
    if (
        not isinstance(operation_id, str)
        or not operation_id
        or isinstance(amount, bool)
        or not isinstance(amount, int)
    ):
        raise AcquirerTimeoutError(ErrorCode.INVALID_RESPONSE)
    return OperationResult(operation_id, amount)
