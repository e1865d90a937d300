"""The payment workflow's BNPL step on in-memory ports: a BNPL payment is decided (a decline
carries the decision's reasons), planned exactly, charged once, booked balanced and recorded
where GET /v1/payments/{id} reads it; a checkout that fails half-way is compensated so that no
money stays moved and none moves twice; a refund unwinds the plan, leaving nothing owed."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

import pytest
from pydantic import ValidationError

from functions.contracts.bnpl_steps import (
    BnplStepInput,
    CheckoutInput,
    CompensateInput,
    RefundInput,
)
from functions.domain.credit.ledger import (
    BnplLedger,
    CreditPostingRules,
    base_account,
    credit_balances,
)
from functions.domain.payments import InMemoryPaymentStore, PaymentStatus, derived_id
from functions.errors import from_validation_error
from functions.models.payments import PaymentRequest
from functions.services.bnpl_checkout import BnplCheckout, decision_id_of
from functions.services.credit_plans import (
    CollectionPolicy,
    LateFee,
    first_instalment_key,
)
from functions.services.payment_commands import (
    CreateExecution,
    request_digest,
    workflow_request,
)
from tests.unit.credit.test_credit_decisions import body
from tests.unit.credit.test_credit_plans import World as PlansWorld

TODAY = dt.date(2027, 1, 31)
TOKEN = "tok_live_1"


class World(PlansWorld):
    """The plans' world (``test_credit_plans``) with the workflow's BNPL step over it."""

    def __init__(self, collection: CollectionPolicy | None = None) -> None:
        super().__init__(collection)
        clock = lambda: dt.datetime.combine(self.today, dt.time(9), dt.UTC)  # noqa: E731
        ledger = BnplLedger(self.ledger_store, CreditPostingRules(allowance_bps=300))
        self.payments = InMemoryPaymentStore()
        self.payment_events: list[dict[str, Any]] = []
        self.checkout = BnplCheckout(
            self.decisions,
            self.service,
            self.plans,
            ledger,
            self.acquirer,
            self.payments,
            clock,
            events=self,
            bus_name="payments-bus",
        )

    def publish(self, entries: Any) -> int:
        self.payment_events.extend(entries)
        return 0

    def announced(self) -> list[tuple[str, str, int | None]]:
        return [
            (e["DetailType"], e["Detail"]["event_id"], e["Detail"].get("amount_refunded"))
            for e in self.payment_events
        ]

    def totals(self) -> dict[str, int]:
        """Balances by base account (customers and merchants summed), the zeros left out."""
        out: dict[str, int] = defaultdict(int)
        for (account, _), value in credit_balances(self.ledger_store.all_entries()).items():
            out[base_account(account)] += value
        assert sum(out.values()) == 0, out
        return {a: v for a, v in out.items() if v}


def payment(amount: int = 60_001, **changes: Any) -> dict[str, Any]:
    credit = body(amount=amount, **changes)
    return {
        "merchant_id": "m_1",
        "amount": amount,
        "currency": "EUR",
        "capture": True,
        "payment_method": {
            "type": "bnpl",
            "token": TOKEN,
            "plan": credit["plan"],
            "applicant": {
                "date_of_birth": credit["customer"]["date_of_birth"],
                "finances": credit["finances"],
                "profile": credit["profile"],
            },
        },
        "customer": {"id": credit["customer"]["id"]},
    }


def step(action: str, request: dict[str, Any], **extra: Any) -> Any:
    return BnplStepInput.validate_python(
        {
            "action": action,
            "payment_id": "pay_1",
            "received_at": "2027-01-31T09:00:00.000+00:00",
            "request": request,
            "card": {
                "token": TOKEN,
                "brand": "visa",
                "last4": "4242",
                "card_key": None,
                "first6": None,
                "exp_month": None,
                "exp_year": None,
            },
            **extra,
        }
    )


def checkout(world: World, request: dict[str, Any]) -> Any:
    checkout_step = step("checkout", request)
    assert isinstance(checkout_step, CheckoutInput)
    return world.checkout.checkout(checkout_step)


def compensate(world: World, request: dict[str, Any]) -> Any:
    compensate_step = step("compensate", request, failure={"Error": "X", "Cause": None})
    assert isinstance(compensate_step, CompensateInput)
    return world.checkout.compensate(compensate_step)


def test_an_approved_payment_is_an_exact_plan_charged_once_and_booked() -> None:
    world = World()
    answer = checkout(world, payment(60_001))
    view = answer.payment
    assert view.status == "captured" and view.amount_captured == 60_001
    assert view.bnpl.outcome == "approved" and view.bnpl.plan_id is not None
    amounts = [i.amount for i in view.bnpl.instalments]
    assert sum(amounts) == 60_001 and len(amounts) == 3
    assert world.acquirer.money_moved() == amounts[0]
    assert [k for k, _ in world.events.events] == [
        "bnpl.plan_created",
        "bnpl.instalment_collected",
    ]
    # Receivable still owed: the two instalments to come.
    assert world.totals()["bnpl_receivable"] == sum(amounts[1:])


def test_a_retried_checkout_answers_the_same_plan_and_charges_once() -> None:
    world = World()
    first = checkout(world, payment())
    again = checkout(world, payment())
    assert again.payment.bnpl == first.payment.bnpl
    assert world.acquirer.money_moved() == first.payment.bnpl.instalments[0].amount


def test_a_declined_applicant_is_a_declined_payment_with_the_reasons() -> None:
    world = World()
    answer = checkout(world, payment(60_001, **{"customer.date_of_birth": "2012-01-01"}))
    view = answer.payment
    assert view.status == "declined" and view.decline_code == "credit_declined"
    assert view.bnpl.outcome == "declined" and view.bnpl.plan_id is None
    assert view.bnpl.reasons and all(r.would_change for r in view.bnpl.reasons)
    assert world.acquirer.money_moved() == 0 and not world.plans.plans


def test_a_first_instalment_the_card_declines_is_a_declined_payment_and_no_plan() -> None:
    world = World()
    world.acquirer.declining.add(TOKEN)
    answer = checkout(world, payment())
    assert answer.payment.status == "declined"
    assert answer.payment.decline_code == "first_instalment_declined"
    assert not world.plans.plans and world.totals() == {}


def test_compensation_cancels_the_plan_reverses_the_ledger_and_refunds_once() -> None:
    world = World()
    opened = checkout(world, payment())
    for _ in range(2):  # the compensation retried: nothing twice
        answer = compensate(world, payment())
        assert answer.payment.status == "failed"
        assert answer.payment.failure_code == "bnpl_checkout_failed"
    plan = world.plans.get(opened.payment.bnpl.plan_id)
    assert plan is not None and plan.status == "canceled"
    assert world.totals() == {}
    assert world.acquirer.money_moved() == 0
    assert len(world.acquirer.refunded) == 1


def test_a_charge_whose_answer_was_lost_is_refunded_by_the_compensation() -> None:
    world = World()
    decision_id = decision_id_of("m_1", "pay_1")
    key = first_instalment_key(derived_id("pl", decision_id), TOKEN)
    world.acquirer.crash_after.add(key)
    with pytest.raises(TimeoutError):
        checkout(world, payment())
    assert world.acquirer.money_moved() > 0 and not world.plans.plans
    compensate(world, payment())
    assert world.acquirer.money_moved() == 0 and world.totals() == {}


def test_a_compensation_before_any_decision_moves_nothing() -> None:
    world = World()
    answer = compensate(world, payment())
    assert answer.payment.status == "failed" and answer.payment.bnpl is None
    assert world.acquirer.charged == {}


def test_collections_run_twice_on_a_day_charge_each_instalment_once() -> None:
    world = World()
    opened = checkout(world, payment(60_000))
    second = opened.payment.bnpl.instalments[1]
    world.today = dt.date.fromisoformat(second.due_date)
    reports = [world.checkout.collect(world.today) for _ in range(2)]
    assert reports[0].collected == 1 and reports[1].collected == 0
    assert world.acquirer.money_moved() == 40_000


@pytest.mark.parametrize(
    ("path", "param"),
    [
        (("applicant",), "payment_method.applicant"),
        (("plan",), "payment_method.plan"),
        (("token",), "payment_method.token"),
        (("applicant", "date_of_birth"), "payment_method.applicant.date_of_birth"),
        (("applicant", "profile", "housing"), "payment_method.applicant.profile.housing"),
    ],
)
def test_a_bnpl_payment_missing_a_field_names_it(path: tuple[str, ...], param: str) -> None:
    request = payment()
    target = request["payment_method"]
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    with pytest.raises(ValidationError) as caught:
        PaymentRequest.model_validate(request)
    error = from_validation_error(caught.value)
    assert (error.param, error.code) == (param, "parameter_missing")


def test_a_card_payment_serialises_as_before_bnpl() -> None:
    # Its request digest is kept on the payment: a new key in the dump would refuse a late
    # retry of a payment made before BNPL existed.
    card = PaymentRequest.model_validate(
        {
            "merchant_id": "m_1",
            "amount": 100,
            "currency": "EUR",
            "payment_method": {"type": "card", "token": "tok_abcdefgh"},
            "customer": {"id": "c"},
        }
    )
    assert set(card.model_dump()["payment_method"]) == {"type", "card", "token"}
    with pytest.raises(ValidationError, match=r"only for payment_method\.type bnpl"):
        PaymentRequest.model_validate(
            {
                **card.model_dump(),
                "payment_method": {"type": "card", "token": "tok_abcdefgh", "plan": "pay_in_3"},
            }
        )


def test_a_bnpl_request_has_a_digest_and_a_workflow_input() -> None:
    # The API digests the request as JSON and starts the workflow with it: a date object in
    # the dump would be a 500.
    request = PaymentRequest.model_validate(payment())
    execution = CreateExecution(
        payment_id="pay_1",
        received_at="2027-01-31T09:00:00.000+00:00",
        request=request,
        request_digest=request_digest(workflow_request(request)),
    )
    data = json.loads(json.dumps(execution.model_dump(mode="json")))
    assert data["request"]["payment_method"]["applicant"]["date_of_birth"] == "1990-05-17"
    assert isinstance(step("checkout", data["request"]), CheckoutInput)


def refund(world: World, refund_id: str = "re_1", amount: int | None = None) -> Any:
    refund_step = BnplStepInput.validate_python(
        {
            "action": "refund",
            "payment_id": "pay_1",
            "refund": {"refund_id": refund_id, "amount": amount},
        }
    )
    assert isinstance(refund_step, RefundInput)
    return world.checkout.refund(refund_step)


def test_every_outcome_is_recorded_where_get_payment_reads_it() -> None:
    world = World()
    answer = checkout(world, payment(60_001))
    stored = world.payments.get("pay_1")
    assert stored is not None and stored.status is PaymentStatus.CAPTURED
    view = stored.view()
    assert (view["amount"], view["amount_captured"]) == (60_001, 60_001)
    assert view["bnpl"]["plan_id"] == answer.payment.bnpl.plan_id
    assert view["bnpl"]["decision_id"] == answer.payment.bnpl.decision_id
    assert "instalments" not in view["bnpl"]  # the plan's state: GET /v1/bnpl/plans/{id}
    assert view["card"] == {"brand": "visa", "last4": "4242"}
    # A retried step answers from the record and writes nothing new.
    assert checkout(world, payment(60_001)).payment == answer.payment
    assert world.payments.get("pay_1") == stored

    declined = World()
    checkout(declined, payment(60_001, **{"customer.date_of_birth": "2012-01-01"}))
    record = declined.payments.get("pay_1")
    assert record is not None and record.status is PaymentStatus.DECLINED
    assert record.bnpl is not None and record.bnpl["reasons"]


def test_a_compensated_checkout_records_the_payment_failed() -> None:
    world = World()
    checkout(world, payment())
    compensate(world, payment())
    stored = world.payments.get("pay_1")
    assert stored is not None and stored.status is PaymentStatus.FAILED
    assert stored.amount_captured == 0


def test_a_refund_unwinds_the_plan_gives_back_every_charge_once_and_leaves_nothing_owed() -> None:
    world = World()
    opened = checkout(world, payment(60_000))
    world.today = dt.date.fromisoformat(opened.payment.bnpl.instalments[1].due_date)
    world.checkout.collect(world.today)
    assert world.acquirer.money_moved() == 40_000
    for _ in range(2):  # the step retried: the same refund, nothing given back twice
        answer = refund(world)
        assert answer.payment.status == "refunded" and answer.payment.amount_refunded == 60_000
    assert world.acquirer.money_moved() == 0 and len(world.acquirer.refunded) == 2
    plan = world.plans.get(opened.payment.bnpl.plan_id)
    assert plan is not None and plan.status == "refunded"
    assert [i.status for i in plan.instalments] == ["refunded", "refunded", "canceled"]
    totals = world.totals()
    # Nothing owed, nothing kept: the merchant bears its fee, as for a card refund.
    assert "bnpl_receivable" not in totals and "acquirer_receivable" not in totals
    assert totals["bnpl_merchant_payable"] == -totals["bnpl_fee_income"] > 0
    assert [k for k, _ in world.events.events][-1] == "bnpl.plan_canceled"
    assert world.events.events[-1][1].amount == 40_000
    # Nothing is collected from a refunded plan.
    world.today = dt.date.fromisoformat(opened.payment.bnpl.instalments[2].due_date)
    assert world.checkout.collect(world.today).collected == 0
    assert world.acquirer.money_moved() == 0


def test_a_late_plan_refunded_owes_neither_instalments_nor_fees() -> None:
    fees = {"EUR": LateFee(amount=500, cap=1_000)}
    world = World(CollectionPolicy(retry_every_days=3, write_off_after_days=60, late_fees=fees))
    opened = checkout(world, payment(60_000))
    world.acquirer.declining_unattended.add(TOKEN)
    world.today = dt.date.fromisoformat(opened.payment.bnpl.instalments[1].due_date)
    world.checkout.collect(world.today)
    assert world.totals()["bnpl_late_fee_income"] == -500
    refund(world)
    assert world.acquirer.money_moved() == 0
    assert "bnpl_receivable" not in world.totals()
    assert "bnpl_late_fee_income" not in world.totals()


def test_a_part_refund_a_second_refund_and_a_declined_payment_are_refused() -> None:
    world = World()
    checkout(world, payment(60_000))
    part = refund(world, amount=1_000)
    assert (part.http_status, part.error.code, part.error.param) == (
        400,
        "parameter_invalid",
        "amount",
    )
    assert world.acquirer.money_moved() == 20_000
    refund(world)
    again = refund(world, "re_2")
    assert (again.http_status, again.error.code) == (400, "charge_already_refunded")

    declined = World()
    checkout(declined, payment(60_001, **{"customer.date_of_birth": "2012-01-01"}))
    refused = refund(declined)
    assert (refused.http_status, refused.error.code) == (400, "payment_unexpected_state")


def test_a_bnpl_payment_announces_its_capture_decline_and_refund_as_a_card_payment_does() -> None:
    """Webhooks, the fraud stream and the lake read payment.* events: a BNPL payment that
    published only bnpl.* events was invisible to them."""
    world = World()
    checkout(world, payment(60_000))
    checkout(world, payment(60_000))  # the step retried: the same event id again
    assert world.announced() == [
        ("payment.captured", "pay_1:payment.captured", 0),
        ("payment.captured", "pay_1:payment.captured", 0),
    ]
    captured = world.payment_events[0]
    assert captured["Source"] == "blueprint.payments" and captured["EventBusName"] == "payments-bus"
    assert captured["Detail"]["amount_captured"] == 60_000
    assert captured["Detail"]["card"] == {"brand": "visa", "last4": "4242"}
    refund(world)
    assert world.announced()[-1] == ("payment.refunded", "pay_1:payment.refunded:re_1", 60_000)

    declined = World()
    checkout(declined, payment(60_000, **{"customer.date_of_birth": "2012-01-01"}))
    assert [kind for kind, _, _ in declined.announced()] == ["payment.declined"]

    compensated = World()
    checkout(compensated, payment(60_000))
    compensate(compensated, payment(60_000))
    assert [kind for kind, _, _ in compensated.announced()] == [
        "payment.captured",
        "payment.declined",
    ]
    assert compensated.payment_events[-1]["Detail"]["status"] == "failed"
