"""Issue 19 item 7: an issuer soft decline of an exempted payment steps up to a challenge
(authorizing → requires_action) and the retry, authenticated, is a new authorization; hard
declines keep their own codes."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from functions.adapters.payments_table import PaymentsTable
from functions.domain.acquirer import (
    AcquirerSimulator,
    AuthorizationRequest,
    AuthorizationResult,
    DeclineCode,
)
from functions.domain.payments import PaymentStatus
from functions.domain.three_ds import Challenge, SimulatedAcs
from functions.services.payment_processing import PaymentProcessor
from tests.adapters import test_payment_steps as steps
from tests.adapters.service_calls import process
from tests.adapters.test_payment_steps import context

BUS = "test-payments"
KEY = b"test-simulator-key-0123456789"
SOFT_DECLINE_CARD = "3220"
table = steps.table  # the payments table on moto, shared with the step tests


class RecordingAcquirer(AcquirerSimulator):
    def __init__(self) -> None:
        super().__init__(KEY, timeout_s=0.01, sleep=lambda _s: None)
        self.requests: list[AuthorizationRequest] = []
        self.always_soft_decline = False

    def authorize(self, request: AuthorizationRequest) -> AuthorizationResult:
        self.requests.append(request)
        if self.always_soft_decline:
            return AuthorizationResult(False, None, DeclineCode.AUTHENTICATION_REQUIRED, None)
        return super().authorize(request)


@pytest.fixture
def acquirer() -> RecordingAcquirer:
    return RecordingAcquirer()


@pytest.fixture
def acs() -> SimulatedAcs:
    return SimulatedAcs(b"test-acs-key-0123456789abcdef")


@pytest.fixture
def processor(
    table: PaymentsTable, acquirer: RecordingAcquirer, acs: SimulatedAcs
) -> PaymentProcessor:
    ticks = itertools.count()
    return PaymentProcessor(
        table,
        acquirer,
        BUS,
        lambda: f"2026-11-22T10:00:{next(ticks) % 60:02d}.000+00:00",
        acs=acs,
    )


def exempted(last4: str = SOFT_DECLINE_CARD) -> dict[str, Any]:
    return context(last4=last4, amount=2_000)


def test_a_soft_declined_exempted_payment_is_stepped_up_then_authorized(
    processor: PaymentProcessor,
    table: PaymentsTable,
    acquirer: RecordingAcquirer,
    acs: SimulatedAcs,
) -> None:
    answer = process({"action": "authorize", "payment": exempted()}, processor)
    assert (answer["approved"], answer["step_up"]) == (False, True)
    view = answer["payment"]
    assert view["status"] == "requires_action" and view["decline_code"] is None
    assert view["next_action"]["type"] == "three_ds_challenge"
    assert view["sca"] == {
        "required": True,
        "exemption": None,
        "reason": "issuer_authentication_required",
        "exemption_requested": "low_value",
    }
    assert [e["DetailType"] for e in answer["events"]] == ["payment.requires_action"]
    # The cardholder passes the challenge; the workflow resumes from the saved state.
    stored = table.get("pay_1")
    assert stored is not None and stored.resume_context is not None
    # Stored beside the card key and last four, the BIN would make a correlatable truncation.
    assert "first6" not in stored.resume_context["card"]
    action = view["next_action"]
    challenge = Challenge(
        action["challenge_id"],
        "pay_1",
        action["method"],
        dt.datetime.fromisoformat(action["expires_at"]),
    )
    now = dt.datetime(2026, 11, 22, 10, 1, tzinfo=dt.UTC)
    result = acs.verify(challenge, SimulatedAcs.PASSING_CODE, now)
    assert result.authenticated
    resumed = dict(stored.resume_context)
    resumed["sca"] = {
        "result": {
            "required": True,
            "reason": "authenticated",
            "eci": result.eci,
            "authentication_value": result.authentication_value,
        }
    }
    done = process({"action": "authorize", "payment": resumed}, processor)
    assert done["approved"] is True and done["payment"]["status"] == "authorized"
    assert done["payment"]["sca"]["exemption_requested"] == "low_value"
    # Two authorizations, under two keys: the first key would replay the soft decline.
    assert [r.idempotency_key for r in acquirer.requests] == [
        "pay_1:authorize",
        "pay_1:authorize:1",
    ]
    assert [r.authentication.exemption for r in acquirer.requests] == ["low_value", None]


def test_an_authenticated_payment_soft_declined_again_is_declined_not_challenged_again(
    processor: PaymentProcessor, acquirer: RecordingAcquirer
) -> None:
    acquirer.always_soft_decline = True
    state = exempted("4242")
    state["sca"] = {"result": {"required": True, "reason": "authenticated", "eci": "05"}}
    answer = process({"action": "authorize", "payment": state}, processor)
    assert answer["payment"]["status"] == "declined"
    assert answer["payment"]["decline_code"] == "authentication_required"


@pytest.mark.parametrize(("last4", "code"), [("9987", "lost_card"), ("9979", "stolen_card")])
def test_lost_and_stolen_cards_are_hard_declines_with_their_own_code(
    processor: PaymentProcessor, last4: str, code: str
) -> None:
    answer = process({"action": "authorize", "payment": exempted(last4)}, processor)
    assert answer["payment"]["status"] == "declined"
    assert answer["payment"]["decline_code"] == code
    assert answer["payment"]["next_action"] is None


def test_a_soft_decline_without_an_acs_stays_a_decline(
    table: PaymentsTable, acquirer: RecordingAcquirer
) -> None:
    processor = PaymentProcessor(table, acquirer, BUS, lambda: "2026-11-22T10:00:00.000+00:00")
    answer = process({"action": "authorize", "payment": exempted()}, processor)
    assert answer["payment"]["status"] == "declined"
    assert answer["payment"]["decline_code"] == "authentication_required"
    stored = table.get("pay_1")
    assert stored is not None and stored.status is PaymentStatus.DECLINED


def test_a_stepped_up_sale_withdraws_its_capture_intent_and_captures_under_the_first_key(
    processor: PaymentProcessor, table: PaymentsTable, acquirer: RecordingAcquirer
) -> None:
    sale = {**exempted(), "capture": True}
    answer = process({"action": "authorize", "payment": sale}, processor)
    assert answer["step_up"] is True
    stored = table.get("pay_1")
    # The capture reserved with ``authorizing`` was never sent: nothing is pending any more.
    assert stored is not None and (stored.capture_pending, stored.capture_sequence) == (0, 0)
    assert stored.resume_context is not None
    resumed = {
        **stored.resume_context,
        "sca": {"result": {"required": True, "reason": "authenticated", "eci": "05"}},
    }
    done = process({"action": "authorize", "payment": resumed}, processor)
    assert done["payment"]["status"] == "captured"
    capture = acquirer.records.find("pay_1:capture:1")
    assert capture is not None and capture.amount == stored.amount
