"""Card tokenization (application service) of the tokenize function: ``POST /v1/tokens`` and
the payment workflow's tokenize step, over the vault (``functions.domain.vault.Vault``, built
with the per-tenant card-class rate limit and no audit sink, so it can never detokenize).

Rules kept here:

- A caller tokenizes only for the merchant its API key authenticated.
- The API answers the token, brand and last four: no fingerprint, which with deduplication
  would make tokenize an oracle confirming guessed cards.
- The workflow step tokenizes a card given in full (the first six digits, the BIN, go on with
  the token: PCI DSS lets them be shown) or describes a stored token (nothing is decrypted).
  Bad input and every vault refusal below 500 are an answer (``{error, http_status}``); a
  vault outage raises, so that the state machine retries.
- A card class closed for a tenant (finding 5) is logged at WARNING as
  ``RATE_LIMITED_MESSAGE`` with the tenant and the limit, never the card or its class: the
  tokenization_vault module's metric filter counts that line and alarms on it.

The card number exists in clear only in this function's memory: it is not logged, returned or
put in an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict

from functions.contracts.steps import StepError
from functions.domain.cards import normalize_pan
from functions.domain.vault import (
    TokenFormat,
    TokenizeRateLimitedError,
    TokenizeResult,
    Vault,
    VaultError,
    VaultUnavailableError,
)
from functions.errors import ApiError, merchant_not_permitted
from functions.models.tokens import (
    MERCHANT_HEADER,
    ApiProblem,
    TokenizeRequest,
    TokenResponse,
    WorkflowCard,
    WorkflowCardOutput,
    WorkflowTokenizeInput,
    vault_api_error,
)

logger = Logger(child=True)

RATE_LIMITED_MESSAGE = "tokenize rate limited"


class MerchantBindings(Protocol):
    def may_act_for(self, principal: str, merchant_id: str) -> bool: ...


class TokenizeStepAnswer(BaseModel):
    """The workflow step's answer: ``{card}``, or ``{error, http_status}`` for bad input (the
    state machine tells them apart by the presence of ``error``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    card: WorkflowCardOutput | None = None
    error: StepError | None = None
    http_status: int | None = None

    @classmethod
    def refused(cls, error: ApiError, status: int) -> TokenizeStepAnswer:
        logger.info("workflow tokenize refused", extra={"code": error.code})
        return cls(error=StepError.model_validate(error.to_dict()), http_status=status)

    def output(self) -> dict[str, object]:
        """JSON data with only the fields set (a card's empty fields included)."""
        return self.model_dump(mode="json", exclude_unset=True)


class CardTokenization:
    def __init__(self, vault: Vault, merchants: MerchantBindings) -> None:
        self._vault = vault
        self._merchants = merchants

    def tokenize_card(
        self,
        tenant_id: str,
        number: str,
        *,
        customer_id: str | None = None,
        cvc: str | None = None,
        token_format: TokenFormat | str = TokenFormat.OPAQUE,
        single_use: bool = False,
        ttl_seconds: int | None = None,
    ) -> TokenizeResult:
        """Tokenize one card for a tenant. Raises the vault's errors."""
        try:
            return self._vault.tokenize(
                tenant_id,
                number,
                customer_id=customer_id,
                token_format=TokenFormat(token_format),
                single_use=single_use,
                cvc=cvc,
                ttl_seconds=ttl_seconds,
            )
        except TokenizeRateLimitedError as exc:
            limit = self._vault.settings.class_limit
            logger.warning(
                RATE_LIMITED_MESSAGE,
                extra={
                    "code": exc.code,
                    "tenant_id": tenant_id,
                    "max_new_cards": limit.max_new_cards,
                    "window_seconds": limit.window_seconds,
                },
            )
            raise

    def create_token(
        self, caller: str, tenant_id: str, body: Callable[[], TokenizeRequest]
    ) -> TokenResponse:
        """``POST /v1/tokens`` for ``tenant_id`` (the ``X-Merchant-Id`` the caller named, else
        its own). The body, a card number, is read only once the caller is admitted for it."""
        if not self._merchants.may_act_for(caller, tenant_id):
            raise ApiProblem(merchant_not_permitted(MERCHANT_HEADER))
        request = body()
        result = self.tokenize_card(
            tenant_id,
            request.number.get_secret_value(),
            customer_id=request.customer_id,
            cvc=request.cvc.get_secret_value() if request.cvc else None,
            token_format=request.format,
            single_use=request.single_use,
            ttl_seconds=request.ttl_seconds,
        )
        logger.info("card tokenized", extra={"tenant_id": tenant_id, "brand": result.brand.value})
        return TokenResponse(token=result.token, brand=result.brand.value, last4=result.last4)

    def tokenize_payment(self, payment: WorkflowTokenizeInput) -> TokenizeStepAnswer:
        """The workflow step: the card of a payment given in full, tokenized here (the PAN
        goes no further), or its stored token, described."""
        method = payment.payment_method
        try:
            if method.card is not None:
                return TokenizeStepAnswer(card=self._tokenized(payment, method.card))
            if method.token is not None:
                record = self._vault.describe(payment.merchant_id, method.token)
                card = WorkflowCardOutput(
                    token=record.token,
                    brand=record.brand.value,
                    last4=record.last4,
                    card_key=record.card_key,
                    first6=None,
                    exp_month=None,
                    exp_year=None,
                )
                return TokenizeStepAnswer(card=card)
        except VaultUnavailableError:
            raise  # a dependency failed: let the state machine retry
        except VaultError as exc:
            if exc.http_status >= 500:
                raise
            return TokenizeStepAnswer.refused(vault_api_error(exc), exc.http_status)
        missing = ApiError(
            "invalid_request_error",
            "parameter_missing",
            "payment_method.card or payment_method.token is required.",
            "payment_method",
        )
        return TokenizeStepAnswer.refused(missing, 400)

    def _tokenized(self, payment: WorkflowTokenizeInput, card: WorkflowCard) -> WorkflowCardOutput:
        number = card.number.get_secret_value()
        result = self.tokenize_card(
            payment.merchant_id,
            number,
            customer_id=payment.customer.id if payment.customer else None,
            cvc=card.cvc.get_secret_value() if card.cvc else None,
        )
        return WorkflowCardOutput(
            token=result.token,
            brand=result.brand.value,
            last4=result.last4,
            card_key=result.card_key,
            # The first six digits identify the issuer (BIN); PCI DSS lets them be shown.
            first6=normalize_pan(number)[:6],
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        )
