"""The tokenize function's rules on an in-memory vault: who may tokenize for a tenant, what the
API and the workflow step answer, and that the card number goes nowhere but the vault."""

from __future__ import annotations

import json
import logging

import pytest

from functions.domain.principals import AuthenticatedMerchant
from functions.domain.vault import (
    ClassLimit,
    MacKey,
    TokenizeRateLimitedError,
    Vault,
    VaultSettings,
    VaultUnavailableError,
)
from functions.models.tokens import ApiProblem, TokenizeRequest, WorkflowTokenizeInput
from functions.services.card_tokenization import RATE_LIMITED_MESSAGE, CardTokenization
from tests.unit.vault.fakes import FakeKms
from tests.unit.vault.helpers import make_harness

PAN = "4242424242424242"
SHOP = "m_1"  # the merchant the API key authenticated
STRANGER = "m_2"
SAME_CLASS = ("4242420000184242", "4242420000264242")  # 424242…4242, as PAN


class DownKms(FakeKms):
    def generate_mac(self, key: MacKey, message: bytes) -> bytes:
        raise VaultUnavailableError()


def tokenization(max_new_cards: int = 20, kms: FakeKms | None = None) -> CardTokenization:
    settings = VaultSettings(class_limit=ClassLimit(max_new_cards=max_new_cards))
    harness = make_harness(settings, kms)
    vault = Vault(
        harness.kms,
        harness.store,
        harness.audit,
        settings=settings,
        clock=harness.clock,
        class_counter=harness.counter,
    )
    return CardTokenization(vault, AuthenticatedMerchant())


def step(payment_method: dict[str, object], merchant: str = "m_1") -> WorkflowTokenizeInput:
    return WorkflowTokenizeInput.model_validate(
        {"merchant_id": merchant, "customer": {"id": "c_1"}, "payment_method": payment_method}
    )


def card(number: str = PAN) -> dict[str, object]:
    return {"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2030}}


def test_an_unbound_caller_is_refused_before_the_body_is_read() -> None:
    read: list[str] = []

    def body() -> TokenizeRequest:
        read.append("body")
        return TokenizeRequest.model_validate({"number": PAN})

    with pytest.raises(ApiProblem) as refused:
        tokenization().create_token(STRANGER, "m_1", body)
    assert (refused.value.error.status, refused.value.error.param) == (403, "X-Merchant-Id")
    assert read == []
    answer = tokenization().create_token(SHOP, "m_1", body)
    assert (answer.brand, answer.last4) == ("visa", "4242")
    assert set(answer.model_dump()) == {"token", "brand", "last4"}  # no fingerprint


def test_the_step_answers_the_token_the_bin_and_the_card_key_never_the_card() -> None:
    service = tokenization()
    out = service.tokenize_payment(step(card())).output()
    assert set(out) == {"card"}
    tokenized = out["card"]
    assert isinstance(tokenized, dict)
    assert (tokenized["first6"], tokenized["last4"], tokenized["exp_month"]) == (
        "424242",
        "4242",
        12,
    )
    assert str(tokenized["card_key"]).startswith("ck_")
    assert PAN not in json.dumps(out)

    described = service.tokenize_payment(step({"type": "card", "token": tokenized["token"]}))
    by_token = described.output()["card"]
    assert isinstance(by_token, dict)
    assert by_token["card_key"] == tokenized["card_key"]
    assert (by_token["first6"], by_token["exp_month"]) == (None, None)


@pytest.mark.parametrize(
    ("payment_method", "merchant", "expected"),
    [
        (card("4242424242424241"), "m_1", (400, "invalid_number")),
        ({"type": "card", "token": "tok_unknown_123"}, "m_1", (404, "token_not_found")),
        ({"type": "card"}, "m_1", (400, "parameter_missing")),
    ],
)
def test_bad_input_is_an_answer_naming_its_status_and_code(
    payment_method: dict[str, object], merchant: str, expected: tuple[int, str]
) -> None:
    answer = tokenization().tokenize_payment(step(payment_method, merchant))
    assert answer.card is None and answer.error is not None
    assert (answer.http_status, answer.error.code) == expected
    assert "4242424242424241" not in json.dumps(answer.output())


def test_a_token_of_another_tenant_is_not_found() -> None:
    service = tokenization()
    token = service.tokenize_card("m_1", PAN).token
    answer = service.tokenize_payment(step({"type": "card", "token": token}, "m_2"))
    assert (answer.http_status, answer.error and answer.error.code) == (404, "token_not_found")


def test_a_vault_outage_raises_for_the_state_machine_to_retry() -> None:
    with pytest.raises(VaultUnavailableError):
        tokenization(kms=DownKms()).tokenize_payment(step(card()))


def test_a_closed_card_class_is_429_and_logged_with_the_tenant_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = tokenization(max_new_cards=1)
    service.tokenize_card("m_1", PAN)
    with caplog.at_level(logging.WARNING), pytest.raises(TokenizeRateLimitedError):
        service.tokenize_card("m_1", SAME_CLASS[0])
    answer = service.tokenize_payment(step(card(SAME_CLASS[1])))
    assert (answer.http_status, answer.error and answer.error.code) == (
        429,
        "tokenize_rate_limited",
    )
    limited = [r for r in caplog.records if r.getMessage() == RATE_LIMITED_MESSAGE]
    assert len(limited) == 2 and all(r.levelno == logging.WARNING for r in limited)
    assert all(getattr(r, "tenant_id", None) == "m_1" for r in limited)
    logged = caplog.text + "".join(str(vars(r)) for r in caplog.records)
    assert not any(number in logged for number in (PAN, *SAME_CLASS))
