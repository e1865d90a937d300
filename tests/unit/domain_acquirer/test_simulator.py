"""The acquirer simulator: every test card, idempotent ids, the injected sleep, argument checks."""

from __future__ import annotations

import functools
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from functions.domain.acquirer import (
    TEST_CARDS,
    AcquirerError,
    AcquirerOperation,
    AcquirerRecords,
    AcquirerRejectedError,
    AcquirerSimulator,
    AcquirerTimeoutError,
    AcquirerUnavailableError,
    Authentication,
    AuthorizationRequest,
    CardReference,
    DeclineCode,
    InMemoryOperationLog,
    OperationKind,
    OperationStatus,
    Outcome,
    SettlementFileRecords,
)
from functions.domain.cards import CardBrand, luhn_valid, validate_pan

KEY = b"simulator-test-key-0123456789abcdef"
TIMEOUT_S = 7.5
FRICTIONLESS = Authentication(eci="05", authentication_value="AAABBBCCCDDD", exemption=None)


class RecordingSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def card(last4: str) -> CardReference:
    return CardReference(
        token="tok_AAAAAAAAAAAAAAAAAAAAAA", brand="visa", last4=last4, exp_month=12, exp_year=2030
    )


def request(
    last4: str = "4242", key: str = "pay_1:authorize", **changes: Any
) -> AuthorizationRequest:
    fields: dict[str, Any] = {
        "payment_id": "pay_1",
        "merchant_id": "m_1",
        "amount": 1050,
        "currency": "EUR",
        "card": card(last4),
        "authentication": FRICTIONLESS,
        "idempotency_key": key,
    }
    fields.update(changes)
    return AuthorizationRequest(**fields)


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def simulator(sleep: RecordingSleep) -> AcquirerSimulator:
    return AcquirerSimulator(KEY, TIMEOUT_S, sleep=sleep)


def authorized(simulator: AcquirerSimulator, last4: str = "4242", key: str = "k-auth") -> str:
    result = simulator.authorize(request(last4, key))
    assert result.approved and result.authorization_id is not None
    return result.authorization_id


# ---------------------------------------------------------------- the test cards


def test_test_card_pans_are_luhn_valid_visa_numbers_keyed_by_their_last_four() -> None:
    assert len(TEST_CARDS) == 15
    for last4, behaviour in TEST_CARDS.items():
        assert luhn_valid(behaviour.pan), behaviour.pan
        assert validate_pan(behaviour.pan) == (behaviour.pan, CardBrand.VISA)
        assert len(behaviour.pan) == 16 and behaviour.pan.endswith(last4)
        assert behaviour.pan == "4242424242424242" or behaviour.pan.startswith("400000000000")
        declines = (Outcome.DECLINED, Outcome.MERCHANT_INITIATED_DECLINED)
        assert (behaviour.decline_code is None) == (behaviour.outcome not in declines)


def test_the_test_card_page_lists_exactly_the_simulators_cards() -> None:
    page = Path(__file__).parents[3] / "docs" / "test-cards.md"
    listed = {
        "".join(m.group(1).split())
        for m in re.finditer(r"^\| ((?:\d{4} ){3}\d{4}) +\|", page.read_text(), re.MULTILINE)
    }
    assert listed == {behaviour.pan for behaviour in TEST_CARDS.values()}


@pytest.mark.parametrize("last4", ["4242", "1111", "0000", "9999"])
def test_approved_cards_and_unlisted_cards(simulator: AcquirerSimulator, last4: str) -> None:
    result = simulator.authorize(request(last4))
    assert result.approved
    assert result.decline_code is None
    assert result.authorization_id is not None and result.authorization_id.startswith("auth_")
    assert result.network_reference is not None and re.fullmatch(
        r"\d{15}", result.network_reference
    )


@pytest.mark.parametrize(
    ("last4", "code"),
    [
        ("9995", DeclineCode.INSUFFICIENT_FUNDS),
        ("0002", DeclineCode.DO_NOT_HONOR),
        ("0069", DeclineCode.EXPIRED_CARD),
        ("9987", DeclineCode.LOST_CARD),
        ("9979", DeclineCode.STOLEN_CARD),
    ],
)
def test_declining_cards(simulator: AcquirerSimulator, last4: str, code: DeclineCode) -> None:
    result = simulator.authorize(request(last4))
    assert not result.approved
    assert result.decline_code is code
    assert result.authorization_id is None
    assert result.network_reference is not None


def test_processing_error_card_fails_every_authorize(
    simulator: AcquirerSimulator, sleep: RecordingSleep
) -> None:
    for attempt in range(3):
        with pytest.raises(AcquirerUnavailableError) as raised:
            simulator.authorize(request("0119", key=f"k-{attempt}"))
        assert raised.value.code == "processing_error"
        assert raised.value.retryable
    assert sleep.calls == []


def test_timeout_card_sleeps_through_the_injected_sleep_then_times_out(
    simulator: AcquirerSimulator, sleep: RecordingSleep
) -> None:
    with pytest.raises(AcquirerTimeoutError) as raised:
        simulator.authorize(request("0408"))
    assert sleep.calls == [TIMEOUT_S]
    assert raised.value.code == "timeout"
    assert raised.value.retryable


def test_timeout_then_void_by_the_authorize_key(simulator: AcquirerSimulator) -> None:
    with pytest.raises(AcquirerTimeoutError):
        simulator.authorize(request("0408", key="k-unknown"))
    voided = simulator.void(None, "k-unknown")
    assert voided.operation_id.startswith("void_")
    assert voided.amount == 0


def test_capture_fails_card_authorizes_then_every_capture_fails_and_void_compensates(
    simulator: AcquirerSimulator,
) -> None:
    authorization_id = authorized(simulator, "0341")
    for attempt in range(3):
        with pytest.raises(AcquirerUnavailableError) as raised:
            simulator.capture(authorization_id, 1050, "EUR", f"k-cap-{attempt}")
        assert raised.value.code == "processing_error"
    assert simulator.void(authorization_id, "k-void").operation_id.startswith("void_")


def test_other_cards_capture_refund_and_void(simulator: AcquirerSimulator) -> None:
    authorization_id = authorized(simulator)
    capture = simulator.capture(authorization_id, 600, "EUR", "k-cap-1")
    second = simulator.capture(authorization_id, 450, "EUR", "k-cap-2")
    refund = simulator.refund(authorization_id, 100, "EUR", "k-ref-1")
    void = simulator.void(authorized(simulator, key="k-auth-voided"), "k-void")
    assert (capture.amount, second.amount, refund.amount, void.amount) == (600, 450, 100, 0)
    assert capture.operation_id.startswith("cap_") and refund.operation_id.startswith("ref_")
    ids = {capture.operation_id, second.operation_id, refund.operation_id, void.operation_id}
    assert len(ids) == 4


def test_simulator_keeps_no_totals(simulator: AcquirerSimulator) -> None:
    """Over-capture is the payment domain's to refuse: the stateless simulator cannot."""
    authorization_id = authorized(simulator)
    assert simulator.capture(authorization_id, 10**9, "EUR", "k-cap").amount == 10**9


# ---------------------------------------------------------------- idempotency


def test_same_authorize_key_gives_the_same_answer_across_instances(sleep: RecordingSleep) -> None:
    first = AcquirerSimulator(KEY, TIMEOUT_S, sleep=sleep).authorize(request(key="k-same"))
    again = AcquirerSimulator(KEY, TIMEOUT_S, sleep=sleep).authorize(request(key="k-same"))
    assert first == again


def test_different_authorize_keys_give_different_ids(simulator: AcquirerSimulator) -> None:
    one = simulator.authorize(request(key="k-one"))
    two = simulator.authorize(request(key="k-two"))
    assert one.authorization_id != two.authorization_id
    assert one.network_reference != two.network_reference


def test_ids_depend_on_the_simulator_key(sleep: RecordingSleep) -> None:
    one = AcquirerSimulator(KEY, TIMEOUT_S, sleep=sleep).authorize(request(key="k"))
    other = AcquirerSimulator(b"another-key-0123456789", TIMEOUT_S, sleep=sleep)
    two = other.authorize(request(key="k"))
    assert one.authorization_id != two.authorization_id
    assert one.authorization_id is not None
    with pytest.raises(AcquirerRejectedError) as raised:
        other.capture(one.authorization_id, 100, "EUR", "k-cap")
    assert raised.value.code == "unknown_authorization"


def test_authorization_id_embeds_nothing_of_the_request(simulator: AcquirerSimulator) -> None:
    authorization_id = authorized(simulator, "0341", key="pay_secretive:authorize")
    assert re.fullmatch(r"auth_[a-z2-7]{32}", authorization_id)
    for fragment in ("0341", "secretive", "pay_", "m_1", "tok_", "1050"):
        assert fragment not in authorization_id


def test_capture_and_refund_ids_follow_their_keys(simulator: AcquirerSimulator) -> None:
    authorization_id = authorized(simulator)
    for operation in (simulator.capture, simulator.refund):
        first = operation(authorization_id, 100, "EUR", "k-op-1")
        assert operation(authorization_id, 100, "EUR", "k-op-1") == first
        assert operation(authorization_id, 100, "EUR", "k-op-2").operation_id != first.operation_id
    other = authorized(simulator, key="k-auth-other")
    assert (
        simulator.capture(other, 100, "EUR", "k-op-1").operation_id
        != simulator.capture(authorization_id, 100, "EUR", "k-op-1").operation_id
    )


def test_a_void_names_one_operation_per_authorization(simulator: AcquirerSimulator) -> None:
    authorization_id = authorized(simulator, key="k-auth")
    by_id = simulator.void(authorization_id, "k-void-1")
    assert simulator.void(authorization_id, "k-void-2") == by_id
    assert simulator.void(None, "k-auth") == by_id
    assert simulator.void(None, "k-auth-other") != by_id


# ---------------------------------------------------------------- argument checks


@pytest.mark.parametrize("amount", [0, -1, True, 10.5, "100"])
def test_capture_and_refund_refuse_bad_amounts(
    simulator: AcquirerSimulator, amount: object
) -> None:
    authorization_id = authorized(simulator)
    for operation in (simulator.capture, simulator.refund):
        with pytest.raises(AcquirerRejectedError) as raised:
            operation(authorization_id, amount, "EUR", "k-op")  # type: ignore[arg-type]
        assert raised.value.code == "invalid_amount"
        assert not raised.value.retryable


@pytest.mark.parametrize("currency", ["eur", "XXX", "EURO", ""])
def test_capture_and_refund_refuse_bad_currencies(
    simulator: AcquirerSimulator, currency: str
) -> None:
    authorization_id = authorized(simulator)
    for operation in (simulator.capture, simulator.refund):
        with pytest.raises(AcquirerRejectedError) as raised:
            operation(authorization_id, 100, currency, "k-op")
        assert raised.value.code == "invalid_currency"


@pytest.mark.parametrize("key", ["", "has space", "line\nbreak", "x" * 256, "caf\u00e9", "a\x1fb"])
def test_every_call_refuses_bad_idempotency_keys(simulator: AcquirerSimulator, key: str) -> None:
    authorization_id = authorized(simulator)
    calls: list[Callable[[], object]] = [
        lambda: simulator.authorize(request(key=key)),
        lambda: simulator.capture(authorization_id, 100, "EUR", key),
        lambda: simulator.refund(authorization_id, 100, "EUR", key),
        lambda: simulator.void(authorization_id, key),
        lambda: simulator.void(None, key),
    ]
    for call in calls:
        with pytest.raises(AcquirerRejectedError) as raised:
            call()
        assert raised.value.code == "invalid_idempotency_key"


@pytest.mark.parametrize(
    ("authorization_id", "code"),
    [
        ("", "invalid_authorization_id"),
        ("..", "invalid_authorization_id"),
        ("auth_/x", "invalid_authorization_id"),
        ("auth_" + "a" * 32, "unknown_authorization"),
        ("pay_1", "unknown_authorization"),
    ],
)
def test_operations_refuse_authorizations_the_simulator_did_not_issue(
    simulator: AcquirerSimulator, authorization_id: str, code: str
) -> None:
    calls: list[Callable[[], object]] = [
        lambda: simulator.capture(authorization_id, 100, "EUR", "k-op"),
        lambda: simulator.refund(authorization_id, 100, "EUR", "k-op"),
        lambda: simulator.void(authorization_id, "k-op"),
    ]
    for call in calls:
        with pytest.raises(AcquirerRejectedError) as raised:
            call()
        assert raised.value.code == code


def test_a_tampered_tag_is_an_unknown_authorization(simulator: AcquirerSimulator) -> None:
    authorization_id = authorized(simulator, "0341")
    flipped = authorization_id[:-1] + ("a" if authorization_id[-1] != "a" else "b")
    with pytest.raises(AcquirerRejectedError) as raised:
        simulator.capture(flipped, 100, "EUR", "k-op")
    assert raised.value.code == "unknown_authorization"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"amount": 0}, "invalid_amount"),
        ({"amount": -5}, "invalid_amount"),
        ({"currency": "ZZZ"}, "invalid_currency"),
        ({"card": card("42")}, "invalid_card"),
        ({"card": card("abcd")}, "invalid_card"),
    ],
)
def test_authorize_refuses_bad_requests_without_sleeping(
    simulator: AcquirerSimulator, sleep: RecordingSleep, changes: dict[str, Any], code: str
) -> None:
    with pytest.raises(AcquirerRejectedError) as raised:
        simulator.authorize(request("0408", **changes))
    assert raised.value.code == code
    assert sleep.calls == []


def test_simulator_configuration_is_checked(sleep: RecordingSleep) -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        AcquirerSimulator(b"short", TIMEOUT_S, sleep=sleep)
    with pytest.raises(ValueError, match="positive"):
        AcquirerSimulator(KEY, 0, sleep=sleep)


def test_errors_and_values_never_show_secrets(simulator: AcquirerSimulator) -> None:
    assert "AAABBBCCCDDD" not in repr(request())
    assert KEY.decode() not in repr(simulator)
    error: AcquirerError = AcquirerUnavailableError()
    assert repr(error) == "AcquirerUnavailableError(code='processing_error')"


# ------------------------------------------- issue 19: the acquirer's own operation record


def _authorized(simulator: AcquirerSimulator) -> str:
    result = simulator.authorize(
        AuthorizationRequest("pay_1", "m_1", 600, "EUR", card("4242"), FRICTIONLESS, "pay_1:a")
    )
    assert result.authorization_id is not None
    return result.authorization_id


def test_operation_status_answers_from_what_the_simulator_did() -> None:
    simulator = AcquirerSimulator(KEY, TIMEOUT_S, sleep=RecordingSleep())
    authorization_id = _authorized(simulator)
    assert simulator.operation_status("pay_1:refund:re_1") is OperationStatus.NOT_FOUND
    simulator.capture(authorization_id, 600, "EUR", "pay_1:capture:1")
    simulator.refund(authorization_id, 600, "EUR", "pay_1:refund:re_1")
    simulator.refund(authorization_id, 600, "EUR", "pay_1:refund:re_1")  # a retry: not a second
    assert simulator.operation_status("pay_1:refund:re_1") is OperationStatus.SUCCEEDED
    assert simulator.operation_status("pay_1:capture:1") is OperationStatus.SUCCEEDED
    assert [(o.kind, o.reference, o.amount) for o in simulator.records.operations()] == [
        (OperationKind.CAPTURE, "pay_1:capture:1", 600),
        (OperationKind.REFUND, "pay_1:refund:re_1", 600),
    ]
    assert simulator.records.operations()[1].payment_id == "pay_1"


def test_a_shared_record_is_one_acquirer_across_simulator_instances() -> None:
    records = InMemoryOperationLog()
    first = AcquirerSimulator(KEY, TIMEOUT_S, sleep=RecordingSleep(), records=records)
    second = AcquirerSimulator(KEY, TIMEOUT_S, sleep=RecordingSleep(), records=records)
    first.refund(_authorized(first), 100, "EUR", "pay_1:refund:re_9")
    assert second.operation_status("pay_1:refund:re_9") is OperationStatus.SUCCEEDED


def test_a_settlement_file_is_read_behind_the_same_port() -> None:
    text = (
        "kind,reference,authorization_id,amount,currency,status\n"
        "capture,pay_1:capture:1,auth_1,600,EUR,succeeded\n"
        "refund,pay_1:refund:re_1,auth_1,600,EUR,\n"
    )
    records: AcquirerRecords = SettlementFileRecords(text)
    assert [(o.kind, o.amount, o.status) for o in records.operations()] == [
        (OperationKind.CAPTURE, 600, OperationStatus.SUCCEEDED),
        (OperationKind.REFUND, 600, OperationStatus.SUCCEEDED),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "kind,reference,amount\ncapture,pay_1:capture:1,600\n",
        "kind,reference,authorization_id,amount,currency,status\n"
        "capture,pay_1:capture:1,auth_1,six hundred,EUR,succeeded\n",
        "kind,reference,authorization_id,amount,currency,status\n"
        "chargeback,pay_1:capture:1,auth_1,600,EUR,succeeded\n",
        "kind,reference,authorization_id,amount,currency,status\n"
        "refund,pay_1:refund:re_1,auth_1,600,XXX,succeeded\n",
    ],
)
def test_a_malformed_settlement_file_is_refused_whole(text: str) -> None:
    with pytest.raises(ValueError, match="settlement file"):
        SettlementFileRecords(text)


def test_the_soft_decline_card_wants_authentication(simulator: AcquirerSimulator) -> None:
    exempted = Authentication(eci=None, authentication_value=None, exemption="low_value")
    declined = simulator.authorize(request("3220", authentication=exempted))
    assert declined.decline_code is DeclineCode.AUTHENTICATION_REQUIRED
    assert declined.decline_code.soft and not declined.decline_code.hard
    assert simulator.authorize(request("3220", key="pay_1:authorize:1")).approved


def test_the_empty_account_card_declines_merchant_initiated_charges_only(
    simulator: AcquirerSimulator,
) -> None:
    merchant_initiated = Authentication(None, None, "merchant_initiated")
    declined = simulator.authorize(request("5100", authentication=merchant_initiated))
    assert (declined.approved, declined.decline_code) == (False, DeclineCode.INSUFFICIENT_FUNDS)
    assert declined.authorization_id is None
    present = Authentication(None, None, None)
    assert simulator.authorize(request("5100", key="k-cit", authentication=present)).approved
    assert simulator.authorize(request("5100", key="k-3ds")).approved


def test_the_lost_answers_card_executes_then_loses_each_first_answer() -> None:
    sleep = RecordingSleep()
    simulator = AcquirerSimulator(KEY, TIMEOUT_S, sleep=sleep)
    authorization_id = simulator.authorize(request("0259")).authorization_id
    assert authorization_id is not None
    for operation, key in ((simulator.capture, "pay_1:capture:1"), (simulator.refund, "r:1")):
        with pytest.raises(AcquirerTimeoutError):
            operation(authorization_id, 500, "EUR", key)
        # It happened: the acquirer's record says so, and the same key answers it now.
        assert simulator.operation_status(key) is OperationStatus.SUCCEEDED
        assert operation(authorization_id, 500, "EUR", key).amount == 500
    assert sleep.calls == [TIMEOUT_S, TIMEOUT_S]
    assert len(simulator.records.operations()) == 2


# ------------------------------------------- issue 17: a void and a capture, first one wins


def test_a_voided_authorization_is_never_captured_or_refunded(
    simulator: AcquirerSimulator,
) -> None:
    authorization_id = authorized(simulator)
    void = simulator.void(authorization_id, "k-void")
    for operation, key in ((simulator.capture, "k-cap"), (simulator.refund, "k-ref")):
        for _ in range(2):  # the same key again: refused again, never recorded
            with pytest.raises(AcquirerRejectedError) as raised:
                operation(authorization_id, 600, "EUR", key)
            assert raised.value.code == "authorization_voided"
            assert not raised.value.retryable
        assert simulator.operation_status(key) is OperationStatus.NOT_FOUND
    # Voiding again, under its key or another, answers the same void.
    assert simulator.void(authorization_id, "k-void") == void
    assert simulator.void(authorization_id, "k-void-2") == void
    assert {o.kind for o in simulator.records.operations()} == {OperationKind.VOID}


def test_a_void_by_the_authorize_key_refuses_captures_by_the_authorization_id(
    simulator: AcquirerSimulator,
) -> None:
    authorization_id = authorized(simulator, key="k-auth")
    simulator.void(None, "k-auth")
    with pytest.raises(AcquirerRejectedError) as raised:
        simulator.capture(authorization_id, 600, "EUR", "k-cap")
    assert raised.value.code == "authorization_voided"
    # Other authorizations are untouched.
    assert simulator.capture(authorized(simulator, key="k-other"), 600, "EUR", "k-cap").amount


@pytest.mark.parametrize("moved_by", ["capture", "refund"])
def test_a_captured_authorization_is_never_voided(
    simulator: AcquirerSimulator, moved_by: str
) -> None:
    authorization_id = authorized(simulator, key="k-auth")
    operation = getattr(simulator, moved_by)
    first = operation(authorization_id, 600, "EUR", "k-move")
    for voided_by, key in ((authorization_id, "k-void"), (None, "k-auth")):
        with pytest.raises(AcquirerRejectedError) as raised:
            simulator.void(voided_by, key)
        assert raised.value.code == "already_captured"
        assert simulator.operation_status(key) is OperationStatus.NOT_FOUND
    # Idempotency holds: the same key answers the first result; more may still move.
    assert operation(authorization_id, 600, "EUR", "k-move") == first
    assert simulator.capture(authorization_id, 100, "EUR", "k-cap-2").amount == 100
    assert simulator.refund(authorization_id, 100, "EUR", "k-ref-2").amount == 100


def test_a_capture_whose_answer_was_lost_still_refuses_the_void() -> None:
    simulator = AcquirerSimulator(KEY, TIMEOUT_S, sleep=RecordingSleep())
    authorization_id = authorized(simulator, "0259")
    with pytest.raises(AcquirerTimeoutError):
        simulator.capture(authorization_id, 600, "EUR", "k-cap")
    with pytest.raises(AcquirerRejectedError) as raised:
        simulator.void(authorization_id, "k-void")
    assert raised.value.code == "already_captured"
    assert simulator.capture(authorization_id, 600, "EUR", "k-cap").amount == 600


class DiesAfterClaiming(InMemoryOperationLog):
    """A record whose container dies once between claiming an authorization and recording the
    operation that claimed it."""

    def __init__(self) -> None:
        super().__init__()
        self.dies = True

    def record(self, operation: AcquirerOperation) -> AcquirerOperation:
        if self.dies:
            self.dies = False
            raise RuntimeError("the container died")
        return super().record(operation)


@pytest.mark.parametrize("first", ["capture", "void"])
def test_an_operation_that_claimed_then_died_is_recorded_by_the_refusal_it_causes(
    first: str,
) -> None:
    records = DiesAfterClaiming()
    simulator = AcquirerSimulator(KEY, TIMEOUT_S, sleep=RecordingSleep(), records=records)
    authorization_id = authorized(simulator)
    capture = functools.partial(simulator.capture, authorization_id, 600, "EUR", "k-cap")
    void = functools.partial(simulator.void, authorization_id, "k-void")
    died, refused, key = (
        (capture, void, "k-cap") if first == "capture" else (void, capture, "k-void")
    )
    with pytest.raises(RuntimeError):
        died()
    with pytest.raises(AcquirerRejectedError):
        refused()
    # The refusal left the record showing why: the first operation, executed once.
    assert [o.reference for o in records.operations()] == [key]
    died()  # its caller's retry under the same key finds it
    assert len(records.operations()) == 1


def test_a_refused_operation_reached_the_request_log(simulator: AcquirerSimulator) -> None:
    authorization_id = authorized(simulator)
    simulator.void(authorization_id, "k-void")
    with pytest.raises(AcquirerRejectedError):
        simulator.capture(authorization_id, 600, "EUR", "k-cap")
    assert [r.kind for r in simulator.request_log.requests()] == ["authorize", "void", "capture"]


def race(capture: Callable[[], object], void: Callable[[], object]) -> dict[str, str]:
    """Runs ``capture`` and ``void`` at once: what each answered, ``done`` or its refusal."""
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def run(name: str, call: Callable[[], object]) -> None:
        start.wait()
        try:
            call()
            outcomes[name] = "done"
        except AcquirerRejectedError as error:
            outcomes[name] = error.code

    threads = [
        threading.Thread(target=run, args=("capture", capture)),
        threading.Thread(target=run, args=("void", void)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_the_first_of_a_void_and_a_capture_wins_across_simulator_instances() -> None:
    """Two containers sharing the record race a capture against a void of one authorization,
    many times: exactly one of the two goes through each time, and the record shows it alone."""
    records = InMemoryOperationLog()
    first = AcquirerSimulator(KEY, TIMEOUT_S, sleep=RecordingSleep(), records=records)
    second = AcquirerSimulator(KEY, TIMEOUT_S, sleep=RecordingSleep(), records=records)
    switch = sys.getswitchinterval()
    # Threads switch often, so that either may reach the record first (the void, started with
    # less to check, nearly always would).
    sys.setswitchinterval(1e-6)
    try:
        for n in range(50):
            authorization_id = authorized(first, key=f"k-auth-{n}")
            outcomes = race(
                functools.partial(first.capture, authorization_id, 600, "EUR", f"k-cap-{n}"),
                functools.partial(second.void, authorization_id, f"k-void-{n}"),
            )
            assert outcomes in (
                {"capture": "done", "void": "already_captured"},
                {"capture": "authorization_voided", "void": "done"},
            )
            recorded = [o for o in records.operations() if o.reference.endswith(f"-{n}")]
            assert len(recorded) == 1
    finally:
        sys.setswitchinterval(switch)
