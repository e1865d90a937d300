"""The HTTP acquirer connector against a local acquirer API (stdlib http.server).

The API is served by delegating to an ``AcquirerSimulator``, so both implementations of the
port are held to the same test-card behaviours; other routes hang past the client's timeout or
answer with canned statuses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from functions.adapters import acquirer_http
from functions.adapters.acquirer_http import HttpAcquirerConnector
from functions.domain.acquirer import (
    TEST_CARDS,
    AcquirerError,
    AcquirerOperation,
    AcquirerRejectedError,
    AcquirerSimulator,
    AcquirerTimeoutError,
    AcquirerUnavailableError,
    Authentication,
    AuthorizationRequest,
    CardReference,
    DeclineCode,
    OperationKind,
)
from functions.domain.cards import luhn_valid
from local.emulator import free_port

KEY = b"http-connector-test-key-0123456789"
SERVER_TIMEOUT_S = 30.0  # how long the server's simulator "hangs" at most (released at teardown)
CLIENT_TIMEOUT_S = 5.0
SHORT_TIMEOUT_S = 0.3
PREFIX = "/v1"
TOKEN = "tok_Zm9ybWF0LXRva2VuLXgx"
CREDENTIAL = "sk_test_acquirer_credential"


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Route = Callable[["_Handler", bytes], None]


class FakeAcquirer(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.release = threading.Event()
        self.simulator = AcquirerSimulator(KEY, SERVER_TIMEOUT_S, sleep=self._hang)
        self.requests: list[Recorded] = []
        self.route: Route = _simulator_route
        self.route_get = False  # canned answers for GETs too

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{PREFIX}"

    def _hang(self, seconds: float) -> None:
        self.release.wait(seconds)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up leaves a broken pipe behind: expected, not worth a trace."""

    def canned(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        def route(handler: _Handler, _: bytes) -> None:
            handler.answer(status, body, headers)

        self.route = route

    def hanging(self) -> None:
        def route(handler: _Handler, _: bytes) -> None:
            self.release.wait(SERVER_TIMEOUT_S)
            handler.answer(200, b"{}")

        self.route = route


class _Handler(BaseHTTPRequestHandler):
    server: FakeAcquirer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.append(Recorded(self.path, dict(self.headers.items()), body))
        self.server.route(self, body)

    def do_GET(self) -> None:
        """The operation status query; any other GET is a followed redirect, recorded so that
        a test can see it happen."""
        self.server.requests.append(Recorded(self.path, dict(self.headers.items()), b""))
        if self.server.route_get:
            self.server.route(self, b"")
            return
        if self.path.startswith(PREFIX + "/settlement-batches?"):
            self.answer(200, json.dumps(_settlement_page(self.server, self.path)).encode())
            return
        if self.path.startswith(PREFIX + "/operations/"):
            key = urllib.parse.unquote(self.path.removeprefix(PREFIX + "/operations/"))
            done = self.server.simulator.operation(key)
            if done is None:
                self.answer(404, b'{"error": {"code": "not_found", "message": "none"}}')
            else:
                recorded = {
                    "status": str(done.status),
                    "kind": str(done.kind),
                    "authorization_id": done.authorization_id,
                    "amount": done.amount,
                    "currency": done.currency,
                }
                self.answer(200, json.dumps(recorded).encode())
            return
        self.answer(200, b"{}")

    def answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {"Content-Type": "application/json"}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _settlement_page(server: FakeAcquirer, path: str) -> dict[str, Any]:
    """The simulator's batches through the asked day, ``limit`` lines a page; the cursor is the
    offset of the next line, and a batch split by a page goes on under its id."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    through = dt.date.fromisoformat(query["through"][0])
    rows = [
        (batch.batch_id, batch.value_date, dataclasses.asdict(line))
        for batch in server.simulator.batches(through, frozenset())
        for line in batch.lines
    ]
    start, limit = int(query.get("cursor", ["0"])[0]), int(query["limit"][0])
    batches: list[dict[str, Any]] = []
    for batch_id, value_date, line in rows[start : start + limit]:
        line["kind"] = str(line["kind"])
        if not batches or batches[-1]["batch_id"] != batch_id:
            batches.append({"batch_id": batch_id, "value_date": value_date, "lines": []})
        batches[-1]["lines"].append(line)
    more = start + limit < len(rows)
    return {"batches": batches, "next_cursor": str(start + limit) if more else None}


_OPERATION_PATH = re.compile(PREFIX + r"/authorizations/([^/]+)/(captures|refunds|voids)")


def _simulator_route(handler: _Handler, raw: bytes) -> None:
    """The documented API, answered by the simulator."""
    simulator = handler.server.simulator
    key = handler.headers["Idempotency-Key"]
    body = json.loads(raw)
    try:
        if handler.path == PREFIX + "/authorizations":
            request = AuthorizationRequest(
                payment_id=body["payment_id"],
                merchant_id=body["merchant_id"],
                amount=body["amount"],
                currency=body["currency"],
                card=CardReference(**body["card"]),
                authentication=Authentication(**body["authentication"]),
                idempotency_key=key,
            )
            result = simulator.authorize(request)
            answer: dict[str, Any] = {
                "approved": result.approved,
                "authorization_id": result.authorization_id,
                "decline_code": result.decline_code,
                "network_reference": result.network_reference,
            }
        elif handler.path == PREFIX + "/voids":
            assert body["authorization_idempotency_key"] == key
            voided = simulator.void(None, key)
            answer = {"operation_id": voided.operation_id, "amount": voided.amount}
        else:
            match = _OPERATION_PATH.fullmatch(handler.path)
            assert match is not None, handler.path
            authorization_id = urllib.parse.unquote(match[1])
            if match[2] == "voids":
                done = simulator.void(authorization_id, key)
            else:
                operation = simulator.capture if match[2] == "captures" else simulator.refund
                done = operation(authorization_id, body["amount"], body["currency"], key)
            answer = {"operation_id": done.operation_id, "amount": done.amount}
    except AcquirerError as error:
        status = {AcquirerUnavailableError: 503, AcquirerTimeoutError: 504}.get(type(error), 400)
        if error.code == "unknown_authorization":
            status = 404
        payload = {"error": {"code": error.code, "message": error.message}}
        handler.answer(status, json.dumps(payload).encode())
        return
    handler.answer(200, json.dumps(answer).encode())


@pytest.fixture
def acquirer() -> Iterator[FakeAcquirer]:
    server = FakeAcquirer()
    # A short poll interval: shutdown() waits for the serving loop's next poll.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


def connect(
    server: FakeAcquirer, timeout_s: float = CLIENT_TIMEOUT_S, credential: str | None = None
) -> HttpAcquirerConnector:
    return HttpAcquirerConnector(
        server.base_url, timeout_s=timeout_s, credential=credential, allow_insecure_localhost=True
    )


@pytest.fixture
def connector(acquirer: FakeAcquirer) -> HttpAcquirerConnector:
    return connect(acquirer)


@pytest.fixture
def reference() -> AcquirerSimulator:
    """The same simulator as the server's, called in process."""
    return AcquirerSimulator(KEY, SERVER_TIMEOUT_S, sleep=lambda _: None)


def request(last4: str = "4242", key: str = "pay_1:authorize") -> AuthorizationRequest:
    return AuthorizationRequest(
        payment_id="pay_1",
        merchant_id="m_1",
        amount=1050,
        currency="EUR",
        card=CardReference(token=TOKEN, brand="visa", last4=last4, exp_month=12, exp_year=2030),
        authentication=Authentication(eci="05", authentication_value="AAAB", exemption=None),
        idempotency_key=key,
    )


# ---------------------------------------------------------------- same behaviours as the simulator


@pytest.mark.parametrize("last4", ["4242", "9995", "0002", "0069", "0341", "1234"])
def test_authorize_answers_like_the_simulator(
    connector: HttpAcquirerConnector, reference: AcquirerSimulator, last4: str
) -> None:
    assert connector.authorize(request(last4)) == reference.authorize(request(last4))


def test_declines_arrive_as_results(connector: HttpAcquirerConnector) -> None:
    result = connector.authorize(request("9995"))
    assert not result.approved and result.decline_code is DeclineCode.INSUFFICIENT_FUNDS


def test_processing_error_card_is_unavailable(connector: HttpAcquirerConnector) -> None:
    with pytest.raises(AcquirerUnavailableError) as raised:
        connector.authorize(request("0119"))
    assert raised.value.code == "processing_error" and raised.value.retryable


def test_timeout_card_times_out_on_the_client(acquirer: FakeAcquirer) -> None:
    with pytest.raises(AcquirerTimeoutError) as raised:
        connect(acquirer, timeout_s=SHORT_TIMEOUT_S).authorize(request("0408"))
    assert raised.value.code == "timeout" and raised.value.retryable


def test_capture_refund_void_answer_like_the_simulator(
    connector: HttpAcquirerConnector, reference: AcquirerSimulator
) -> None:
    authorization_id = connector.authorize(request()).authorization_id
    assert authorization_id is not None
    assert connector.capture(authorization_id, 600, "EUR", "k-cap") == reference.capture(
        authorization_id, 600, "EUR", "k-cap"
    )
    assert connector.refund(authorization_id, 100, "EUR", "k-ref") == reference.refund(
        authorization_id, 100, "EUR", "k-ref"
    )
    uncaptured = connector.authorize(request(key="k-auth-2")).authorization_id
    assert uncaptured is not None
    assert connector.void(uncaptured, "k-void") == reference.void(uncaptured, "k-void")


def test_a_void_after_a_capture_and_a_capture_after_a_void_are_refused_as_rejections(
    connector: HttpAcquirerConnector,
) -> None:
    captured = connector.authorize(request(key="k-auth-1")).authorization_id
    voided = connector.authorize(request(key="k-auth-2")).authorization_id
    assert captured is not None and voided is not None
    connector.capture(captured, 600, "EUR", "k-cap-1")
    connector.void(voided, "k-void-2")
    with pytest.raises(AcquirerRejectedError) as refused_void:
        connector.void(captured, "k-void-1")
    with pytest.raises(AcquirerRejectedError) as refused_capture:
        connector.capture(voided, 600, "EUR", "k-cap-2")
    assert (refused_void.value.code, refused_capture.value.code) == (
        "already_captured",
        "authorization_voided",
    )


def test_void_by_the_authorize_key(
    connector: HttpAcquirerConnector, acquirer: FakeAcquirer, reference: AcquirerSimulator
) -> None:
    authorization_id = connector.authorize(request(key="k-auth")).authorization_id
    voided = connector.void(None, "k-auth")
    assert voided == reference.void(None, "k-auth")
    assert voided == connector.void(authorization_id, "k-void")
    sent = acquirer.requests[1]
    assert sent.path == PREFIX + "/voids"
    assert sent.json() == {"authorization_idempotency_key": "k-auth"}
    assert sent.headers["Idempotency-Key"] == "k-auth"


def test_capture_fails_card_then_void_compensates(connector: HttpAcquirerConnector) -> None:
    authorization_id = connector.authorize(request("0341")).authorization_id
    assert authorization_id is not None
    with pytest.raises(AcquirerUnavailableError) as raised:
        connector.capture(authorization_id, 1050, "EUR", "k-cap")
    assert raised.value.code == "processing_error"
    assert connector.void(authorization_id, "k-void").operation_id.startswith("void_")


def test_unknown_authorization_is_rejected(connector: HttpAcquirerConnector) -> None:
    with pytest.raises(AcquirerRejectedError) as raised:
        connector.capture("auth_" + "a" * 32, 100, "EUR", "k-cap")
    assert raised.value.code == "unknown_authorization" and not raised.value.retryable


# ---------------------------------------------------------------- what goes over the wire


def test_requests_carry_the_idempotency_key_and_json(
    connector: HttpAcquirerConnector, acquirer: FakeAcquirer
) -> None:
    authorization_id = connector.authorize(request(key="k-auth")).authorization_id
    assert authorization_id is not None
    connector.capture(authorization_id, 700, "EUR", "k-cap")
    authorize, capture = acquirer.requests
    assert authorize.path == PREFIX + "/authorizations"
    assert capture.path == f"{PREFIX}/authorizations/{authorization_id}/captures"
    assert authorize.headers["Idempotency-Key"] == "k-auth"
    assert capture.headers["Idempotency-Key"] == "k-cap"
    assert capture.json() == {"amount": 700, "currency": "EUR"}
    for sent in (authorize, capture):
        assert sent.headers["Content-Type"] == "application/json"
        assert "Authorization" not in sent.headers
    assert authorize.json()["authentication"] == {
        "eci": "05",
        "authentication_value": "AAAB",
        "exemption": None,
    }


def test_bearer_credential_is_sent_when_configured(acquirer: FakeAcquirer) -> None:
    connector = connect(acquirer, credential=CREDENTIAL)
    connector.authorize(request())
    assert acquirer.requests[0].headers["Authorization"] == f"Bearer {CREDENTIAL}"
    assert CREDENTIAL not in repr(connector)


def test_the_card_travels_as_its_token_only(
    connector: HttpAcquirerConnector, acquirer: FakeAcquirer
) -> None:
    for n, last4 in enumerate(TEST_CARDS):
        try:
            result = connect(acquirer, timeout_s=SHORT_TIMEOUT_S).authorize(request(last4, f"k{n}"))
        except (AcquirerUnavailableError, AcquirerTimeoutError):
            continue
        if result.authorization_id is not None:
            connector.void(result.authorization_id, f"k-void-{n}")
    sent_authorizations = [r for r in acquirer.requests if r.path.endswith("/authorizations")]
    assert len(sent_authorizations) == len(TEST_CARDS)
    for sent in sent_authorizations:
        assert sent.json()["card"] == {
            "token": TOKEN,
            "brand": "visa",
            "last4": sent.json()["card"]["last4"],
            "exp_month": 12,
            "exp_year": 2030,
        }
    wire = " ".join(f"{r.path} {r.headers} {r.body.decode()}" for r in acquirer.requests)
    for behaviour in TEST_CARDS.values():
        assert behaviour.pan not in wire
    for run in re.findall(r"\d{13,19}", wire):
        assert not luhn_valid(run), "a card-number-like digit run was sent"


# ---------------------------------------------------------------- failures


def test_a_handler_that_hangs_is_a_timeout(acquirer: FakeAcquirer) -> None:
    acquirer.hanging()
    connector = connect(acquirer, timeout_s=SHORT_TIMEOUT_S)
    with pytest.raises(AcquirerTimeoutError):
        connector.authorize(request())
    with pytest.raises(AcquirerTimeoutError):
        connector.capture("auth_x", 100, "EUR", "k-cap")


def test_a_500_is_unavailable_and_its_body_is_not_repeated(
    connector: HttpAcquirerConnector, acquirer: FakeAcquirer
) -> None:
    acquirer.canned(500, b"boom: stack trace with secrets", {"Content-Type": "text/plain"})
    with pytest.raises(AcquirerUnavailableError) as raised:
        connector.authorize(request())
    assert raised.value.code == "processing_error" and raised.value.retryable
    assert "boom" not in str(raised.value) and "boom" not in repr(raised.value)


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (
            503,
            {"error": {"code": "issuer_unavailable"}},
            AcquirerUnavailableError,
            "issuer_unavailable",
        ),
        (502, {"error": {"code": "Not A Code!"}}, AcquirerUnavailableError, "processing_error"),
        (504, {}, AcquirerTimeoutError, "timeout"),
        (429, {}, AcquirerUnavailableError, "rate_limited"),
        (400, {"error": {"code": "amount_too_large"}}, AcquirerRejectedError, "amount_too_large"),
        (
            409,
            {"error": {"code": "idempotency_key_reused"}},
            AcquirerRejectedError,
            "idempotency_key_reused",
        ),
        (403, {"error": "no"}, AcquirerRejectedError, "rejected"),
    ],
)
def test_status_mapping(
    connector: HttpAcquirerConnector,
    acquirer: FakeAcquirer,
    status: int,
    body: dict[str, Any],
    error: type[AcquirerError],
    code: str,
) -> None:
    acquirer.canned(status, json.dumps(body).encode())
    with pytest.raises(error) as raised:
        connector.capture("auth_x", 100, "EUR", "k-cap")
    assert type(raised.value) is error
    assert raised.value.code == code


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"approved": true}',
        b'{"approved": true, "authorization_id": 7}',
        b'{"approved": false}',
        b'{"approved": "yes", "authorization_id": "auth_1"}',
        b"{" + b" " * 70_000 + b"}",
    ],
)
def test_an_unreadable_answer_leaves_the_outcome_unknown(
    connector: HttpAcquirerConnector, acquirer: FakeAcquirer, body: bytes
) -> None:
    acquirer.canned(200, body)
    with pytest.raises(AcquirerTimeoutError) as raised:
        connector.authorize(request())
    assert raised.value.code == "invalid_response"


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b'{"operation_id": "cap_1"}',
        b'{"operation_id": "", "amount": 1}',
        b'{"operation_id": "cap_1", "amount": true}',
    ],
)
def test_an_unreadable_operation_answer_leaves_the_outcome_unknown(
    connector: HttpAcquirerConnector, acquirer: FakeAcquirer, body: bytes
) -> None:
    acquirer.canned(201, body)
    with pytest.raises(AcquirerTimeoutError):
        connector.refund("auth_x", 100, "EUR", "k-ref")


def test_an_unknown_decline_reason_is_the_generic_decline(
    connector: HttpAcquirerConnector, acquirer: FakeAcquirer
) -> None:
    acquirer.canned(200, b'{"approved": false, "decline_code": "card_velocity_exceeded"}')
    result = connector.authorize(request())
    assert result == connector.authorize(request()) and not result.approved
    assert result.decline_code is DeclineCode.DO_NOT_HONOR and result.network_reference is None


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("authentication_required", DeclineCode.AUTHENTICATION_REQUIRED),
        ("1A", DeclineCode.AUTHENTICATION_REQUIRED),  # Visa: additional authentication required
        ("65", DeclineCode.AUTHENTICATION_REQUIRED),  # Mastercard: soft decline, SCA required
        ("lost_card", DeclineCode.LOST_CARD),
        ("41", DeclineCode.LOST_CARD),
        ("stolen_card", DeclineCode.STOLEN_CARD),
        ("43", DeclineCode.STOLEN_CARD),
    ],
)
def test_soft_and_hard_declines_keep_their_class(
    connector: HttpAcquirerConnector, acquirer: FakeAcquirer, reason: str, code: DeclineCode
) -> None:
    acquirer.canned(200, json.dumps({"approved": False, "decline_code": reason}).encode())
    result = connector.authorize(request())
    assert result.decline_code is code
    assert result.decline_code.soft is (code is DeclineCode.AUTHENTICATION_REQUIRED)
    assert result.decline_code.hard is (code is not DeclineCode.AUTHENTICATION_REQUIRED)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_not_followed(acquirer: FakeAcquirer, status: int) -> None:
    """urllib would follow 301-303 (as a GET, bearer credential included)."""
    acquirer.canned(status, b"", {"Location": f"{acquirer.base_url}/elsewhere"})
    with pytest.raises(AcquirerRejectedError):
        connect(acquirer, credential=CREDENTIAL).authorize(request())
    assert [sent.path for sent in acquirer.requests] == [PREFIX + "/authorizations"]


def test_nothing_listening_is_unavailable() -> None:
    connector = HttpAcquirerConnector(
        f"http://127.0.0.1:{free_port()}", timeout_s=CLIENT_TIMEOUT_S, allow_insecure_localhost=True
    )
    with pytest.raises(AcquirerUnavailableError) as raised:
        connector.authorize(request())
    assert raised.value.code == "connection_failed"


def test_bad_arguments_never_leave_the_process(
    connector: HttpAcquirerConnector, acquirer: FakeAcquirer
) -> None:
    calls: list[tuple[Callable[[], object], str]] = [
        (lambda: connector.capture("auth_x", 0, "EUR", "k"), "invalid_amount"),
        (lambda: connector.refund("auth_x", 100, "eur", "k"), "invalid_currency"),
        (lambda: connector.capture("../admin", 100, "EUR", "k"), "invalid_authorization_id"),
        (lambda: connector.void("a/b", "k"), "invalid_authorization_id"),
        (lambda: connector.void(None, "bad\r\nX-Injected: 1"), "invalid_idempotency_key"),
        (lambda: connector.authorize(request(key="")), "invalid_idempotency_key"),
    ]
    for call, code in calls:
        with pytest.raises(AcquirerRejectedError) as raised:
            call()
        assert raised.value.code == code
    assert acquirer.requests == []


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("url", "insecure_localhost"),
    [
        ("http://acquirer.example.com", False),
        ("http://acquirer.example.com", True),
        ("http://127.0.0.1:8080", False),
        ("http://localhost.example.com", True),
        ("http://10.0.0.1", True),
        ("ftp://acquirer.example.com", False),
        ("file:///etc/passwd", True),
        ("https://user:pass@acquirer.example.com", False),
        ("https://acquirer.example.com/v1?x=1", False),
        ("https://", False),
    ],
)
def test_base_urls_that_are_refused(url: str, insecure_localhost: bool) -> None:
    with pytest.raises(ValueError, match="base URL"):
        HttpAcquirerConnector(url, timeout_s=1, allow_insecure_localhost=insecure_localhost)


@pytest.mark.parametrize(
    ("url", "insecure_localhost"),
    [
        ("https://acquirer.example.com/v1/", False),
        ("https://127.0.0.1:8443", False),
        ("http://127.0.0.1:8080", True),
        ("http://localhost:8080/api", True),
    ],
)
def test_base_urls_that_are_accepted(url: str, insecure_localhost: bool) -> None:
    connector = HttpAcquirerConnector(url, timeout_s=1, allow_insecure_localhost=insecure_localhost)
    assert url.rstrip("/") in repr(connector)


@pytest.mark.parametrize("credential", ["", "two words", "line\nbreak"])
def test_credentials_that_cannot_be_a_header_are_refused(credential: str) -> None:
    with pytest.raises(ValueError, match="credential"):
        HttpAcquirerConnector("https://a.example", timeout_s=1, credential=credential)


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        HttpAcquirerConnector("https://a.example", timeout_s=0)


def test_operation_status_asks_the_acquirer_by_key(
    connector: HttpAcquirerConnector, acquirer: FakeAcquirer
) -> None:
    authorization_id = connector.authorize(request()).authorization_id
    assert authorization_id is not None
    assert connector.operation_status("pay_1:refund:re/1") == "not_found"
    connector.refund(authorization_id, 100, "EUR", "pay_1:refund:re/1")
    assert connector.operation_status("pay_1:refund:re/1") == "succeeded"
    assert acquirer.requests[-1].path == PREFIX + "/operations/pay_1%3Arefund%3Are%2F1"


def test_an_operation_is_read_back_with_its_authorization(
    connector: HttpAcquirerConnector, acquirer: FakeAcquirer
) -> None:
    authorization_id = connector.authorize(request()).authorization_id
    assert authorization_id is not None
    assert connector.operation("pay_1:capture:1") is None
    connector.capture(authorization_id, 610, "EUR", "pay_1:capture:1")
    assert connector.operation("pay_1:capture:1") == AcquirerOperation(
        OperationKind.CAPTURE, "pay_1:capture:1", authorization_id, 610, "EUR"
    )
    assert acquirer.requests[-1].path == PREFIX + "/operations/pay_1%3Acapture%3A1"


RECORDED = {
    "status": "succeeded",
    "kind": "capture",
    "authorization_id": "auth_1",
    "amount": 610,
    "currency": "EUR",
}


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "succeeded"},  # what operation_status needs, not what operation does
        {**RECORDED, "status": "maybe"},
        {**RECORDED, "kind": "sale"},
        {**RECORDED, "authorization_id": None},
        {**RECORDED, "amount": "610"},
        {**RECORDED, "amount": True},
        {**RECORDED, "amount": -1},
        {**RECORDED, "currency": 978},
    ],
    ids=[
        "status-only",
        "status",
        "kind",
        "authorization",
        "amount-text",
        "amount-bool",
        "amount-negative",
        "currency",
    ],
)
def test_an_operation_answer_that_is_not_the_record_is_never_read_as_one(
    connector: HttpAcquirerConnector, acquirer: FakeAcquirer, answer: dict[str, Any]
) -> None:
    acquirer.canned(200, json.dumps(answer).encode())
    acquirer.route_get = True
    with pytest.raises(AcquirerTimeoutError):
        connector.operation("pay_1:capture:1")


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (200, b'{"status": "maybe"}', AcquirerTimeoutError),
        (503, b"{}", AcquirerUnavailableError),
        (401, b"{}", AcquirerRejectedError),
    ],
)
def test_an_unusable_status_answer_is_never_read_as_not_found(
    connector: HttpAcquirerConnector,
    acquirer: FakeAcquirer,
    status: int,
    body: bytes,
    error: type[AcquirerError],
) -> None:
    acquirer.canned(status, body)
    acquirer.route_get = True
    with pytest.raises(error):
        connector.operation_status("pay_1:capture:1")


# --------------------------------------------------------------------------- settlement

_LINE = {
    "kind": "capture",
    "reference": "pay_1:capture:1",
    "amount": 1000,
    "currency": "EUR",
    "interchange_fee": 2,
    "scheme_fee": 1,
}


def _batch(value_date: str = "2026-12-03", **line: Any) -> dict[str, Any]:
    return {"batch_id": "b1", "value_date": value_date, "lines": [{**_LINE, **line}]}


def _settle_some(connector: HttpAcquirerConnector, payments: int) -> None:
    for n in range(payments):
        authorization_id = connector.authorize(request(key=f"pay_{n}:authorize")).authorization_id
        assert authorization_id is not None
        connector.capture(authorization_id, 1_000 + n, "EUR", f"pay_{n}:capture:1")
        if n % 2:
            connector.refund(authorization_id, 100, "EUR", f"pay_{n}:refund:re_{n}")


def test_settlement_batches_are_read_page_by_page_and_joined(
    connector: HttpAcquirerConnector, acquirer: FakeAcquirer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seven lines, two a page: four pages, the day's one batch cut across them and joined
    again, equal to what the acquirer made."""
    monkeypatch.setattr(acquirer_http, "SETTLEMENT_PAGE_LINES", 2)
    _settle_some(connector, 5)  # 5 captures, 2 refunds
    through = dt.date(2026, 12, 2)
    got = connector.batches(through, frozenset())
    assert got == acquirer.simulator.batches(through, frozenset())
    assert len(got) == 1 and len(got[0].lines) == 7
    pages = [r.path for r in acquirer.requests if "/settlement-batches?" in r.path]
    assert len(pages) == 4
    first = urllib.parse.parse_qs(urllib.parse.urlsplit(pages[0]).query)
    assert first == {"from": ["2026-11-01"], "through": ["2026-12-02"], "limit": ["2"]}
    cursors = [urllib.parse.parse_qs(urllib.parse.urlsplit(p).query)["cursor"] for p in pages[1:]]
    assert cursors == [["2"], ["4"], ["6"]]


def test_settlement_pages_carry_the_credential(acquirer: FakeAcquirer) -> None:
    connect(acquirer, credential=CREDENTIAL).batches(dt.date(2026, 12, 2), frozenset())
    assert acquirer.requests[-1].headers["Authorization"] == f"Bearer {CREDENTIAL}"


@pytest.mark.parametrize(
    "answer",
    [
        {"batches": {}},
        {"batches": [{"batch_id": "b1", "value_date": "2026-12-03"}]},
        {"batches": [{"batch_id": "b1", "value_date": "soon", "lines": [_LINE]}]},
        {"batches": [{"batch_id": "b:1", "value_date": "2026-12-03", "lines": [_LINE]}]},
        {"batches": [{"batch_id": "b1", "value_date": "2026-12-03", "lines": []}]},
        {"batches": [_batch(kind="payout")]},
        {"batches": [_batch(reference="pay_1:refund:1")]},
        {"batches": [_batch(amount=True)]},
        {"batches": [_batch(amount="100")]},
        {"batches": [_batch(scheme_fee=-1)]},
        {"batches": [_batch(currency=7)]},
        {"batches": [_batch(), _batch()]},  # one reference settled twice in a batch
        {"batches": [], "next_cursor": ""},
        {"batches": [], "next_cursor": 3},
    ],
)
def test_a_settlement_answer_of_another_shape_books_nothing(
    acquirer: FakeAcquirer, connector: HttpAcquirerConnector, answer: dict[str, Any]
) -> None:
    acquirer.route_get = True
    acquirer.canned(200, json.dumps(answer).encode())
    with pytest.raises(AcquirerTimeoutError) as error:
        connector.batches(dt.date(2026, 12, 2), frozenset())
    assert error.value.code == "invalid_response"


def test_a_cursor_given_twice_is_an_endless_answer(
    acquirer: FakeAcquirer, connector: HttpAcquirerConnector
) -> None:
    acquirer.route_get = True
    acquirer.canned(200, json.dumps({"batches": [_batch()], "next_cursor": "again"}).encode())
    with pytest.raises(AcquirerTimeoutError):
        connector.batches(dt.date(2026, 12, 2), frozenset())
    assert len(acquirer.requests) == 2


def test_a_batch_whose_value_date_changes_between_pages_is_refused(
    acquirer: FakeAcquirer, connector: HttpAcquirerConnector
) -> None:
    pages = iter(
        [
            {"batches": [_batch()], "next_cursor": "2"},
            {"batches": [_batch(value_date="2026-12-04", reference="pay_2:capture:1")]},
        ]
    )

    def route(handler: _Handler, _: bytes) -> None:
        handler.answer(200, json.dumps(next(pages)).encode())

    acquirer.route_get = True
    acquirer.route = route
    with pytest.raises(AcquirerTimeoutError):
        connector.batches(dt.date(2026, 12, 2), frozenset())


def test_an_unavailable_acquirer_fails_the_settlement_read(
    acquirer: FakeAcquirer, connector: HttpAcquirerConnector
) -> None:
    acquirer.route_get = True
    acquirer.canned(503, b'{"error": {"code": "maintenance", "message": "later"}}')
    with pytest.raises(AcquirerUnavailableError):
        connector.batches(dt.date(2026, 12, 2), frozenset())
