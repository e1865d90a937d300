"""Card velocity counts per card across customers, not per token (issue 18, finding 9).

A token is per customer and merchant: a card tester who rotated ``customer.id`` got a fresh token
for the same stolen card on every attempt, so the velocity rule, which counted payments per token,
never fired. The vault gives the workflow a platform-wide ``card_key`` (a KMS MAC of the card
number); the fraud step counts on it, and on the token only for a card tokenized before card keys
existed. Runs the real vault (in-memory KMS and table) for the tokens and the in-memory payment
records with the payments table's indexes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from functions.domain.fraud import FraudRules, Reason, RulesFraudScorer
from functions.domain.fx import EurRates
from functions.domain.geo import IpCountryTable, IssuerCountryTable
from functions.domain.payments import PaymentStatus, new_payment
from functions.services.fraud_scoring import assess_payment, signals
from tests.unit.services.fakes import IndexedPaymentRecords
from tests.unit.vault.helpers import make_harness

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
VISA = "4242424242424242"
MASTERCARD = "5555555555554444"
RATES = EurRates.from_json('{"EUR": "1"}')
RULES = FraudRules()  # velocity_card fires at card_velocity_per_hour (5) earlier payments


def payment(payment_id: str, card: dict[str, Any], customer_id: str, minutes_ago: int = 1) -> Any:
    at = (NOW - dt.timedelta(minutes=minutes_ago)).isoformat(timespec="milliseconds")
    return {
        "payment_id": payment_id,
        "received_at": at,
        "merchant_id": "m_1",
        "amount": 100,
        "currency": "EUR",
        "card": card,
        # A fresh device each time too: only the card links the attempts.
        "customer": {"id": customer_id, "device_id": f"dev-{customer_id}"},
    }


def tokenized(customer_id: str, card_key: bool = True) -> dict[str, Any]:
    result = HARNESS.vault.tokenize("m_1", VISA, customer_id=customer_id)
    return {
        "token": result.token,
        "brand": result.brand.value,
        "last4": result.last4,
        "card_key": result.card_key if card_key else None,
    }


HARNESS = make_harness()


def velocity(records: IndexedPaymentRecords, state: dict[str, Any]) -> Any:
    return signals(state, records, RATES, IpCountryTable.TEST, IssuerCountryTable.TEST, NOW)


def score(records: IndexedPaymentRecords, state: dict[str, Any]) -> Any:
    return assess_payment(
        state,
        RulesFraudScorer(RULES),
        records,
        RATES,
        IpCountryTable.TEST,
        IssuerCountryTable.TEST,
        None,
        NOW,
    )


def test_f9_a_card_tester_rotating_customer_ids_trips_card_velocity() -> None:
    records = IndexedPaymentRecords()
    attempts = [tokenized(f"c_{n}") for n in range(RULES.card_velocity_per_hour)]
    # The attack: every attempt of the one card is a new customer, hence a new token.
    assert len({card["token"] for card in attempts}) == len(attempts)
    assert len({card["card_key"] for card in attempts}) == 1
    for n, card in enumerate(attempts):
        declined = new_payment(payment(f"pay_{n}", card, f"c_{n}"), PaymentStatus.DECLINED, "")
        records.save(declined)

    next_try = payment("pay_next", tokenized("c_next"), "c_next")
    found = velocity(records, next_try)
    assert found.card_payments_last_hour == RULES.card_velocity_per_hour
    assert found.device_payments_last_hour == 0
    assert Reason.VELOCITY_CARD in score(records, next_try).reasons


def test_f9_velocity_stays_within_the_window_and_the_card() -> None:
    records = IndexedPaymentRecords()
    card = tokenized("c_a")
    records.save(
        new_payment(payment("old", card, "c_a", minutes_ago=61), PaymentStatus.DECLINED, "")
    )
    other = HARNESS.vault.tokenize("m_1", MASTERCARD, customer_id="c_a")
    other_card = {
        "token": other.token,
        "brand": "mastercard",
        "last4": "4444",
        "card_key": other.card_key,
    }
    records.save(new_payment(payment("other", other_card, "c_a"), PaymentStatus.DECLINED, ""))
    assert velocity(records, payment("new", card, "c_a")).card_payments_last_hour == 0


def test_f9_a_card_without_a_card_key_counts_on_its_token_only() -> None:
    """A token written before card keys existed: its own payments count, another legacy token of
    the same card cannot be linked to it (that is what the card key adds)."""
    records = IndexedPaymentRecords()
    legacy = tokenized("c_legacy", card_key=False)
    another = tokenized("c_other", card_key=False)
    for n in range(3):
        records.save(new_payment(payment(f"l_{n}", legacy, "c_legacy"), PaymentStatus.DECLINED, ""))
    records.save(new_payment(payment("o_0", another, "c_other"), PaymentStatus.DECLINED, ""))
    counted = velocity(records, payment("l_new", legacy, "c_legacy"))
    assert counted.card_payments_last_hour == 3
