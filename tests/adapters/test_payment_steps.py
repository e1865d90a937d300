"""The money-moving workflow step (process_payment) over the payments table on moto (in
process) and the acquirer simulator: every action, its replays, concurrency and compensation."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters.payments_table import PaymentsTable
from functions.domain.acquirer import (
    AcquirerSimulator,
    AcquirerTimeoutError,
    AcquirerUnavailableError,
    AuthorizationRequest,
    AuthorizationResult,
)
from functions.domain.payments import PaymentStatus
from functions.services.fraud_scoring import CARD_INDEX, CARD_INDEX_ATTRIBUTE
from functions.services.payment_processing import PaymentProcessor
from tests.adapters.payment_tables import (
    PAYMENTS_TABLE,
    REGION,
    create_payments_table,
    fake_aws_environment,
)
from tests.adapters.service_calls import process

BUS = "test-payments"
KEY = b"test-simulator-key-0123456789"


class CountingAcquirer(AcquirerSimulator):
    def __init__(self) -> None:
        super().__init__(KEY, timeout_s=0.01, sleep=lambda _s: None)
        self.authorizations = 0

    def authorize(self, request: AuthorizationRequest) -> AuthorizationResult:
        self.authorizations += 1
        return super().authorize(request)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[PaymentsTable]:
    fake_aws_environment(monkeypatch)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        create_payments_table(ddb)
        yield PaymentsTable(ddb, PAYMENTS_TABLE)


@pytest.fixture
def acquirer() -> CountingAcquirer:
    return CountingAcquirer()


@pytest.fixture
def processor(table: PaymentsTable, acquirer: CountingAcquirer) -> PaymentProcessor:
    ticks = itertools.count()
    return PaymentProcessor(
        table, acquirer, BUS, lambda: f"2026-11-22T10:00:{next(ticks) % 60:02d}.000+00:00"
    )


def context(payment_id: str = "pay_1", last4: str = "4242", amount: int = 10_000) -> dict[str, Any]:
    return {
        "payment_id": payment_id,
        "received_at": "2026-11-22T09:59:59.000+00:00",
        "merchant_id": "m_1",
        "amount": amount,
        "currency": "EUR",
        "capture": False,
        "customer": {"id": "c_1", "ip": None, "country": "DE", "device_id": "dev-1"},
        "sca_preferences": {"exemption_requested": None},
        "card": {
            "token": f"tok_{payment_id}",
            "brand": "visa",
            "last4": last4,
            "first6": "400000",
            "exp_month": 12,
            "exp_year": 2030,
        },
        "fraud": {"result": {"score": 0, "decision": "allow", "reasons": []}},
        "sca": {"result": {"required": False, "exemption": "low_value", "reason": "low_value"}},
    }


def authorize(processor: PaymentProcessor, **kwargs: Any) -> dict[str, Any]:
    return process({"action": "authorize", "payment": context(**kwargs)}, processor)


def test_approved_authorization_is_recorded_and_a_replay_does_not_ask_again(
    processor: PaymentProcessor, table: PaymentsTable, acquirer: CountingAcquirer
) -> None:
    first = authorize(processor)
    assert first["approved"] is True
    assert first["payment"]["status"] == "authorized"
    assert [e["DetailType"] for e in first["events"]] == ["payment.authorized"]
    assert first["events"][0]["Detail"]["card"] == {"brand": "visa", "last4": "4242"}
    again = authorize(processor)
    assert again["payment"] == first["payment"]
    assert acquirer.authorizations == 1
    stored = table.get("pay_1")
    assert stored is not None and stored.authorization_id
    # A card without a card key (tokenized before card keys) is indexed on its token.
    assert table.count_since(CARD_INDEX, CARD_INDEX_ATTRIBUTE, "token#tok_pay_1", "2026-01-01") == 1


@pytest.mark.parametrize(
    ("last4", "code"),
    [("9995", "insufficient_funds"), ("0002", "do_not_honor"), ("0069", "expired_card")],
)
def test_declines_carry_the_acquirer_code(
    processor: PaymentProcessor, last4: str, code: str
) -> None:
    answer = authorize(processor, last4=last4)
    assert answer["approved"] is False
    assert answer["payment"]["status"] == "declined"
    assert answer["payment"]["decline_code"] == code
    assert [e["DetailType"] for e in answer["events"]] == ["payment.declined"]


def test_partial_capture_then_refunds_never_exceed_what_was_captured(
    processor: PaymentProcessor,
) -> None:
    authorize(processor)
    capture = {"action": "capture", "payment_id": "pay_1", "amount": 6_000, "request_key": "k1"}
    captured = process(capture, processor)
    assert captured["captured_amount"] == 6_000 and captured["sequence"] == 1
    assert captured["payment"]["status"] == "captured"
    replay = process(capture, processor)  # the same request: answered as before
    assert replay["payment"]["amount_captured"] == 6_000 and replay["sequence"] == 1
    # A second capture is an error that retrying cannot fix: 400, not 200 and not 409.
    second = process({**capture, "amount": None, "request_key": "k2"}, processor)
    assert (second["http_status"], second["error"]["code"]) == (400, "payment_unexpected_state")

    def refund(refund_id: str, amount: int | None) -> dict[str, Any]:
        return process(
            {
                "action": "refund",
                "payment_id": "pay_1",
                "refund": {"refund_id": refund_id, "amount": amount},
            },
            processor,
        )

    assert refund("re_1", 2_000)["payment"]["status"] == "partially_refunded"
    assert refund("re_1", 2_000)["payment"]["amount_refunded"] == 2_000  # replay: no second refund
    too_much = refund("re_2", 4_001)
    assert too_much["http_status"] == 400 and too_much["error"]["param"] == "amount"
    rest = refund("re_3", None)
    assert rest["refund"] == {"id": "re_3", "amount": 4_000}
    assert rest["payment"]["status"] == "refunded"
    done = refund("re_4", 1)
    assert (done["http_status"], done["error"]["code"]) == (400, "charge_already_refunded")


def test_capture_above_the_authorized_amount_is_refused_naming_amount(
    processor: PaymentProcessor,
) -> None:
    authorize(processor)
    refused = process({"action": "capture", "payment_id": "pay_1", "amount": 10_001}, processor)
    assert refused["http_status"] == 400 and refused["error"]["param"] == "amount"
    missing = process({"action": "capture", "payment_id": "pay_404", "amount": None}, processor)
    assert missing["http_status"] == 404


def test_concurrent_refunds_spend_the_balance_once(processor: PaymentProcessor) -> None:
    authorize(processor)
    process({"action": "capture", "payment_id": "pay_1", "amount": None}, processor)
    answers: list[dict[str, Any]] = []
    start = threading.Barrier(4)

    def refund(refund_id: str) -> None:
        start.wait()
        answers.append(
            process(
                {
                    "action": "refund",
                    "payment_id": "pay_1",
                    "refund": {"refund_id": refund_id, "amount": 6_000},
                },
                processor,
            )
        )

    threads = [threading.Thread(target=refund, args=(f"re_{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    succeeded = [a for a in answers if "refund" in a]
    assert len(succeeded) == 1
    assert all(a["error"]["code"] == "amount_too_large" for a in answers if "error" in a)


def test_a_failed_capture_releases_its_reservation_and_keeps_the_authorization(
    processor: PaymentProcessor, table: PaymentsTable
) -> None:
    authorize(processor, last4="0341")
    with pytest.raises(AcquirerUnavailableError):
        process({"action": "capture", "payment_id": "pay_1", "amount": None}, processor)
    stored = table.get("pay_1")
    assert stored is not None
    assert (stored.status, stored.amount_captured) == (PaymentStatus.AUTHORIZED, 0)
    # A compensation reaching this payment (only the create and resume steps have one) finds an
    # authorization its step finished: it stays for the merchant to capture or cancel.
    failure = {"Error": "AcquirerUnavailableError", "Cause": "{}"}
    kept = process({"action": "void", "payment_id": "pay_1", "failure": failure}, processor)
    assert kept["payment"]["status"] == "authorized"
    assert kept["payment"]["failure_code"] is None
    assert table.get("pay_1") == stored


def test_an_unanswered_authorization_stays_resumable_until_voided_by_its_key(
    processor: PaymentProcessor, table: PaymentsTable
) -> None:
    with pytest.raises(AcquirerTimeoutError):
        authorize(processor, last4="0408")
    stored = table.get("pay_1")
    assert stored is not None and stored.status is PaymentStatus.AUTHORIZING
    failure = {"Error": "AcquirerTimeoutError", "Cause": "{}"}
    voided = process(
        {"action": "void", "payment_id": "pay_1", "failure": failure, "payment": context()},
        processor,
    )
    assert voided["payment"]["status"] == "failed"
    # An infrastructure failure is a failure_code; decline_code is the issuer's alone.
    assert voided["payment"]["failure_code"] == "acquirer_timeout"
    assert voided["payment"]["decline_code"] is None
    assert [e["DetailType"] for e in voided["events"]] == ["payment.declined"]


def test_require_action_keeps_a_tokenized_context_and_authorize_resumes_it(
    processor: PaymentProcessor, table: PaymentsTable
) -> None:
    state = context()
    state["sca"] = {
        "result": {
            "required": True,
            "exemption": None,
            "reason": "no_exemption",
            "challenge": {
                "type": "three_ds_challenge",
                "challenge_id": "ch_1",
                "method": "otp",
                "expires_at": "x",
            },
        }
    }
    waiting = process({"action": "require_action", "payment": state}, processor)
    assert waiting["payment"]["status"] == "requires_action"
    assert waiting["payment"]["next_action"]["challenge_id"] == "ch_1"
    stored = table.get("pay_1")
    assert stored is not None and stored.resume_context is not None
    assert "sca" not in stored.resume_context and "number" not in str(stored.resume_context)
    resumed = dict(stored.resume_context)
    resumed["sca"] = {"result": {"required": True, "reason": "authenticated", "eci": "05"}}
    answer = process({"action": "authorize", "payment": resumed}, processor)
    assert answer["payment"]["status"] == "authorized"
    assert answer["payment"]["next_action"] is None
    assert answer["payment"]["sca"]["reason"] == "authenticated"


def test_fraud_decline_is_recorded_with_its_reasons(processor: PaymentProcessor) -> None:
    state = context()
    state["fraud"] = {
        "result": {"score": 90, "decision": "block", "reasons": ["amount_above_limit"]}
    }
    answer = process(
        {"action": "decline", "decline_code": "fraud_suspected", "payment": state}, processor
    )
    assert answer["payment"]["status"] == "declined"
    assert answer["payment"]["fraud"] == {
        "score": 90,
        "decision": "block",
        "reasons": ["amount_above_limit"],
    }


# ------------------------------------------------------------- issue 19 item 12: API semantics


def test_state_errors_are_400_never_409(processor: PaymentProcessor) -> None:
    authorize(processor, last4="9995")  # declined
    capture = process({"action": "capture", "payment_id": "pay_1", "amount": None}, processor)
    refund = process(
        {"action": "refund", "payment_id": "pay_1", "refund": {"refund_id": "re_1"}}, processor
    )
    for answer in (capture, refund):
        assert (answer["http_status"], answer["error"]["code"]) == (
            400,
            "payment_unexpected_state",
        )


def test_a_late_retry_with_another_amount_is_not_answered_with_the_first_operation(
    processor: PaymentProcessor,
) -> None:
    authorize(processor)
    capture = {"action": "capture", "payment_id": "pay_1", "amount": 6_000, "request_key": "k1"}
    process(capture, processor)
    late = process({**capture, "amount": 7_000}, processor)
    assert (late["http_status"], late["error"]["code"]) == (422, "idempotency_key_reused")
    refund = {"action": "refund", "payment_id": "pay_1", "refund": {"refund_id": "re_1"}}
    process({**refund, "refund": {"refund_id": "re_1", "amount": 100}}, processor)
    late = process({**refund, "refund": {"refund_id": "re_1", "amount": 200}}, processor)
    assert (late["http_status"], late["error"]["code"]) == (422, "idempotency_key_reused")
