"""docs/test-cards.md's Mastercard and American Express numbers: each a valid card of its network
(Luhn, range, length, and for Amex a four-digit CVC), one row for every behaviour of the
simulator, and each behaving through card validation and the simulator as its Visa twin."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest

from functions.domain.acquirer import TEST_CARDS, AcquirerSimulator, Outcome
from functions.domain.cards import CardBrand, CardValidationError, validate_card
from tests.unit.domain_acquirer.test_simulator import KEY, TIMEOUT_S, RecordingSleep, request

PAGE = Path(__file__).parents[3] / "docs" / "test-cards.md"
TODAY = dt.date(2026, 12, 2)
ROW = re.compile(r"^\| (\d{4}) \| ((?:\d{4} ){3}\d{4}) \| (\d{4} \d{6} \d{5}) \|$", re.MULTILINE)


def rows() -> list[tuple[str, str, str]]:
    return [
        (m.group(1), m.group(2).replace(" ", ""), m.group(3).replace(" ", ""))
        for m in ROW.finditer(PAGE.read_text())
    ]


def test_the_page_has_a_mastercard_and_an_amex_number_for_every_behaviour() -> None:
    assert sorted(last4 for last4, _, _ in rows()) == sorted(TEST_CARDS)


@pytest.mark.parametrize(("last4", "mastercard", "amex"), rows())
def test_each_number_is_a_valid_card_of_its_network_ending_in_its_row(
    last4: str, mastercard: str, amex: str
) -> None:
    card = validate_card(mastercard, 12, TODAY.year + 1, "123", TODAY)
    assert (card.brand, card.last4, card.length) == (CardBrand.MASTERCARD, last4, 16)
    card = validate_card(amex, 12, TODAY.year + 1, "1234", TODAY)
    assert (card.brand, card.last4, card.length) == (CardBrand.AMEX, last4, 15)
    with pytest.raises(CardValidationError) as refused:
        validate_card(amex, 12, TODAY.year + 1, "123", TODAY)
    assert (refused.value.code, refused.value.param) == ("invalid_cvc", "payment_method.card.cvc")


@pytest.mark.parametrize(
    "number", ["5555555555554444", "2223003122003222", "378282246310005", "371449635398431"]
)
def test_the_networks_usual_test_numbers_are_valid_and_approved(number: str) -> None:
    card = validate_card(number, 12, TODAY.year + 1, "1234" if number[0] == "3" else "123", TODAY)
    assert card.last4 not in TEST_CARDS
    result = AcquirerSimulator(KEY, TIMEOUT_S, sleep=RecordingSleep()).authorize(
        request(card.last4)
    )
    assert result.approved


# The cards whose answer is the authorization itself (timeouts, lost answers and slow answers
# are the last four's too; test_simulator covers them).
ANSWERED = [
    row for row in rows() if TEST_CARDS[row[0]].outcome in (Outcome.APPROVED, Outcome.DECLINED)
]


@pytest.mark.parametrize(("last4", "mastercard", "amex"), ANSWERED)
def test_a_brand_card_is_authorized_as_its_visa_twin(
    last4: str, mastercard: str, amex: str
) -> None:
    behaviour = TEST_CARDS[last4]
    for brand, number in ((CardBrand.MASTERCARD, mastercard), (CardBrand.AMEX, amex)):
        visa = request(last4)
        card = dataclasses.replace(visa.card, brand=brand.value, last4=number[-4:])
        simulator = AcquirerSimulator(KEY, TIMEOUT_S, sleep=RecordingSleep())
        result = simulator.authorize(dataclasses.replace(visa, card=card))
        twin = simulator.authorize(dataclasses.replace(visa, idempotency_key="twin"))
        assert (result.approved, result.decline_code) == (twin.approved, twin.decline_code)
        assert result.approved == (behaviour.outcome is Outcome.APPROVED)
