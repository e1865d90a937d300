"""The acquirer's slow answers and its request record (issue 17): the slow card answers within
the connector's timeout, the late card is authorized but answered after it (the caller sees a
timeout and must void), through the simulator in process and through the HTTP connector, whose
own timeout is what fires; and every request the simulator receives is recorded, so a double
capture stays visible however the retries went."""

from __future__ import annotations

import time
from typing import Any

import pytest

from functions.adapters.acquirer_http import HttpAcquirerConnector
from functions.domain.acquirer import (
    SLOW_ANSWER_SHARE,
    AcquirerRequest,
    AcquirerSimulator,
    AcquirerTimeoutError,
    InMemoryRequestLog,
    OperationKind,
)
from local.chaos import acquirer_difference, moved_by_payment, resent_with_other_parameters
from tests.unit.domain_acquirer.test_http_connector import (
    KEY,
    FakeAcquirer,
    acquirer,
    connect,
    request,
)
from tests.unit.domain_acquirer.test_simulator import RecordingSleep, sleep

# Fixtures shared with the connector's and the simulator's own tests.
__all__ = ["acquirer", "sleep"]

SLOW, LATE = "7775", "7783"
TIMEOUT_S = 2.0


@pytest.fixture
def simulator(sleep: RecordingSleep) -> AcquirerSimulator:
    return AcquirerSimulator(KEY, TIMEOUT_S, sleep=sleep)


def test_the_slow_card_answers_every_call_late_but_in_time(
    simulator: AcquirerSimulator, sleep: RecordingSleep
) -> None:
    authorized = simulator.authorize(request(SLOW, key="pay_1:authorize"))
    assert authorized.approved and authorized.authorization_id is not None
    captured = simulator.capture(authorized.authorization_id, 1050, "EUR", "pay_1:capture:1")
    refunded = simulator.refund(authorized.authorization_id, 50, "EUR", "pay_1:refund:r1")
    assert (captured.amount, refunded.amount) == (1050, 50)
    assert sleep.calls == [TIMEOUT_S * SLOW_ANSWER_SHARE] * 3
    assert all(seconds < TIMEOUT_S for seconds in sleep.calls)


def test_other_cards_answer_at_once(simulator: AcquirerSimulator, sleep: RecordingSleep) -> None:
    authorized = simulator.authorize(request("4242"))
    assert authorized.authorization_id is not None
    simulator.capture(authorized.authorization_id, 1050, "EUR", "pay_1:capture:1")
    assert sleep.calls == []


def test_the_late_card_is_authorized_but_answered_after_the_timeout(
    simulator: AcquirerSimulator, sleep: RecordingSleep
) -> None:
    with pytest.raises(AcquirerTimeoutError):
        simulator.authorize(request(LATE, key="pay_2:authorize"))
    assert sleep.calls == [TIMEOUT_S]
    # The caller does what a timeout calls for: void by the authorize key.
    simulator.void(None, "pay_2:authorize")
    assert [(r.kind, r.reference) for r in simulator.request_log.requests()] == [
        ("authorize", "pay_2:authorize"),
        ("void", "pay_2:authorize"),
    ]
    assert [o.kind for o in simulator.records.operations()] == [OperationKind.VOID]


# ------------------------------------------------------------------ through the HTTP connector


def test_over_http_a_slow_answer_arrives_and_a_late_one_is_the_clients_timeout(
    acquirer: FakeAcquirer,
) -> None:
    # The server's simulator with a 1 s timeout that it really waits out: the slow card
    # answers in 0.6 s, the late one after 1 s; the client gives up at 0.8 s.
    acquirer.simulator = AcquirerSimulator(KEY, 1.0, sleep=time.sleep)
    connector: HttpAcquirerConnector = connect(acquirer, timeout_s=0.8)
    started = time.monotonic()
    slow = connector.authorize(request(SLOW, key="pay_3:authorize"))
    assert slow.approved and 0.5 < time.monotonic() - started < 0.8

    started = time.monotonic()
    with pytest.raises(AcquirerTimeoutError):
        connector.authorize(request(LATE, key="pay_4:authorize"))
    waited = time.monotonic() - started
    assert 0.7 < waited < 1.0, waited  # the client's own timeout, not the server's answer
    # The acquirer received it (and authorized): only its request record says so.
    received = [r.reference for r in acquirer.simulator.request_log.requests()]
    assert received == ["pay_3:authorize", "pay_4:authorize"]


# ------------------------------------------------------------------ the request record


def capture_request(key: str, amount: int) -> AcquirerRequest:
    return AcquirerRequest("capture", key, "auth_x", amount, "EUR")


def test_a_double_capture_stays_visible_however_the_retries_went() -> None:
    log = InMemoryRequestLog()
    simulator = AcquirerSimulator(KEY, TIMEOUT_S, sleep=lambda _: None, request_log=log)
    authorization = simulator.authorize(request("4242", key="pay_5:authorize")).authorization_id
    assert authorization is not None
    # A retry under the same key: one capture at the acquirer, two requests received.
    simulator.capture(authorization, 1050, "EUR", "pay_5:capture:1")
    simulator.capture(authorization, 1050, "EUR", "pay_5:capture:1")
    moved = moved_by_payment(simulator.records.operations())
    assert acquirer_difference("pay_5", 1050, 0, moved) is None
    assert [r.kind for r in log.requests()].count("capture") == 2
    assert resent_with_other_parameters(log.requests()) == []
    # A second capture under another key is a double capture: the acquirer moved it twice.
    simulator.capture(authorization, 1050, "EUR", "pay_5:capture:2")
    moved = moved_by_payment(simulator.records.operations())
    assert acquirer_difference("pay_5", 1050, 0, moved) == (
        "pay_5: API captured 1050 refunded 0, acquirer 2100/0"
    )


def test_a_key_sent_again_with_another_amount_is_found() -> None:
    found = resent_with_other_parameters(
        [capture_request("pay_6:capture:1", 1050), capture_request("pay_6:capture:1", 900)]
    )
    assert len(found) == 1 and found[0].startswith("capture pay_6:capture:1:")
    assert resent_with_other_parameters([capture_request("k", 1), capture_request("k", 1)]) == []
    # A void by key names the authorize call's key: another request, not the same one changed.
    authorize = AcquirerRequest("authorize", "pay_6:authorize", "", 1050, "EUR")
    void = AcquirerRequest("void", "pay_6:authorize", "", 0, "")
    assert resent_with_other_parameters([authorize, void, authorize]) == []


def test_every_kind_of_request_is_recorded_before_the_simulator_acts(
    simulator: AcquirerSimulator,
) -> None:
    authorization = simulator.authorize(request("0341", key="pay_7:authorize")).authorization_id
    assert authorization is not None
    with pytest.raises(Exception, match="could not process"):
        simulator.capture(authorization, 1050, "EUR", "pay_7:capture:1")  # the card's failure
    simulator.void(authorization, "pay_7:void")
    kinds: list[Any] = [(r.kind, r.amount) for r in simulator.request_log.requests()]
    assert kinds == [("authorize", 1050), ("capture", 1050), ("void", 0)]
