"""The payment events on the payment bus: one model per ``detail-type``, and their JSON Schemas.

Consumers (the fraud stream, the data lake, webhooks) read these fields and nothing else, so the
models forbid extra fields: a field added to ``Payment.event`` without its contract fails the
contract tests instead of reaching a consumer unannounced. Card data is tokens, brand and last
four only; a value anywhere in an event that looks like a card number is refused.

What the fraud stream reads (``modules/fraud_stream``): the card by its platform card key (a KMS
MAC of the number that only the tokenize function can compute: a keyed hash in the sense of
PCI DSS 3.5.1.1, so no one holding an event can test guesses of the missing digits against it),
the BIN, the device and IP the request gave, the card's issuing country, the IP's and billing
country where known, and the amount in EUR. Each is null when the payment did not have it: a
payment made with a stored token has no BIN (the workflow keeps the BIN only while it runs),
and an event published after the workflow (capture, refund, cancel) has none either.

``docs/schemas/events/<detail-type>.json`` are generated from these models
(``python -m functions.contracts.events docs/schemas/events``); a test keeps them equal.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from functions.domain.cards import contains_card_number
from functions.domain.payments import EventType, PaymentStatus
from functions.domain.sca import Exemption


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventDetail(Contract):
    """An event's detail: refused whole if any value in it looks like a card number."""

    @model_validator(mode="before")
    @classmethod
    def no_card_number(cls, data: Any) -> Any:
        if contains_card_number(json.dumps(data, default=str)):
            raise ValueError("an event must not contain a card number")
        return data


class CardView(Contract):
    brand: str = Field(min_length=1, max_length=32)
    last4: str = Field(pattern=r"^[0-9]{4}$")


class PaymentEventDetail(EventDetail):
    """The detail every ``payment.*`` event carries: the payment's state after the change."""

    event_id: str = Field(
        min_length=1, description="Deterministic: a republished event keeps its id."
    )
    payment_id: str = Field(pattern=r"^pay_[A-Za-z0-9]+$")
    merchant_id: str = Field(min_length=1, max_length=128)
    status: PaymentStatus
    amount: int = Field(gt=0, description="Minor units of currency.")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    amount_captured: int = Field(ge=0)
    amount_refunded: int = Field(ge=0)
    token: str = Field(min_length=1, description="The vault token; never a card number.")
    card: CardView
    decline_code: str | None
    occurred_at: AwareDatetime
    operation_key: str | None = Field(
        default=None, description="The refund id for payment.refunded."
    )
    operation_amount: int | None = Field(
        default=None, gt=0, description="The amount this operation moved."
    )
    platform_card_key: str = Field(
        pattern=r"^(card#ck_|token#)[A-Za-z0-9_-]+$",
        description="The card across the platform: card#<vault card key, a KMS MAC>, or "
        "token#<token> for a card tokenized before card keys existed. Never a card number.",
    )
    bin: str | None = Field(
        default=None,
        pattern=r"^[0-9]{6}$",
        description="The card's first six digits, while the workflow that tokenized it runs.",
    )
    customer_id: str | None = Field(
        default=None,
        max_length=256,
        description="The merchant's customer id (customer.id of the request); the lake keeps "
        "only its keyed pseudonym.",
    )
    device_id: str | None = Field(
        default=None, max_length=256, description="As the request gave it."
    )
    ip: str | None = Field(default=None, max_length=64, description="The customer's IP address.")
    billing_country: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="customer.country of the request."
    )
    card_country: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="The issuer's country, from the BIN."
    )
    ip_country: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="The IP address's country."
    )
    amount_eur_minor: int | None = Field(
        default=None,
        ge=0,
        description="amount in EUR cents (rounded up) at the operator's rate; null without one.",
    )
    sca_required: bool | None = Field(
        default=None,
        description="Whether the risk step required strong customer authentication (PSD2); "
        "null where no SCA decision was made.",
    )
    sca_exemption: Exemption | None = Field(
        default=None,
        description="The exemption the risk step applied instead of SCA (RTS Art. 13-18: "
        "low_value, transaction_risk_analysis, recurring; merchant_initiated is out of scope); "
        "null when SCA was required or the payment was out of scope. With amount_eur_minor and "
        "the fraud alerts, the lake's sca_exemption_bands query computes the TRA fraud rate "
        "per Annex band (Art. 18-19).",
    )


class AmountEventDetail(PaymentEventDetail):
    operation_amount: int = Field(gt=0, description="The amount this operation moved.")


class RefundedDetail(AmountEventDetail):
    operation_key: str = Field(min_length=1, description="The refund id.")


DETAIL_MODELS: dict[EventType, type[PaymentEventDetail]] = {
    EventType.AUTHORIZED: AmountEventDetail,
    EventType.CAPTURED: AmountEventDetail,
    EventType.REFUNDED: RefundedDetail,
    EventType.DECLINED: PaymentEventDetail,
    EventType.REQUIRES_ACTION: PaymentEventDetail,
    EventType.CANCELED: PaymentEventDetail,
}


class PaymentEventEntry(Contract):
    """A PutEvents entry as the workflow publishes it."""

    EventBusName: str = Field(min_length=1)
    Source: Literal["blueprint.payments"] = "blueprint.payments"
    DetailType: EventType
    Detail: dict[str, Any]

    @model_validator(mode="after")
    def detail_matches_type(self) -> PaymentEventEntry:
        DETAIL_MODELS[self.DetailType].model_validate(self.Detail)
        return self


ALERT_SOURCE = "blueprint.fraud"
ALERT_DETAIL_TYPE = "fraud.alert"


class FraudAlertDetail(EventDetail):
    """A ``fraud.alert`` (source ``blueprint.fraud``) the fraud stream raises on the payment bus.
    ``subject`` is a platform card key (``card#...``), a device id, an IP or a merchant id,
    never a card number."""

    alert_id: str = Field(
        pattern=r"^fa_[0-9a-f]{32}$",
        description="Deterministic per subject, typology and window period: every attempt of "
        "one burst names the same alert, so consumers drop repeats by this id.",
    )
    subject_type: Literal["card", "device", "ip", "merchant"]
    subject: str = Field(min_length=1, max_length=256)
    typology: Literal["card_testing", "card_burst", "bin_attack", "model_high_risk"]
    score: int = Field(ge=0, le=100, description="The model's score of the attempt that raised it.")
    reasons: list[str] = Field(
        description="The rule's feature first, then the model's top contributing features."
    )
    window: Literal["10m", "1h", "24h", "7d"]
    first_seen: AwareDatetime = Field(
        description="Start of the subject's first counted bucket in the window."
    )
    last_seen: AwareDatetime = Field(description="When the attempt that raised it happened.")
    blocked_until: AwareDatetime | None = Field(
        default=None,
        description="Until when the hot path declines the subject; null: alert only (merchant).",
    )


def parse_entry(entry: Any) -> PaymentEventEntry:
    """The entry, checked against its detail-type's contract (raises ``ValidationError``)."""
    return PaymentEventEntry.model_validate(entry)


def json_schemas() -> dict[str, dict[str, Any]]:
    """``{detail-type: JSON Schema of its detail}``."""
    schemas = {}
    for event_type, model in DETAIL_MODELS.items():
        schema = model.model_json_schema()
        schema["title"] = event_type.value
        schema["$id"] = f"https://blueprint.payments/schemas/events/{event_type.value}.json"
        schemas[event_type.value] = schema
    schema = FraudAlertDetail.model_json_schema()
    schema["title"] = ALERT_DETAIL_TYPE
    schema["$id"] = f"https://blueprint.payments/schemas/events/{ALERT_DETAIL_TYPE}.json"
    schemas[ALERT_DETAIL_TYPE] = schema
    # Imported here: functions.contracts.credit builds its event detail on this module's.
    from functions.contracts.credit import BnplEventDetail, BnplEventType

    for bnpl_type in get_args(BnplEventType):
        schema = BnplEventDetail.model_json_schema()
        schema["title"] = bnpl_type
        schema["$id"] = f"https://blueprint.payments/schemas/events/{bnpl_type}.json"
        schemas[bnpl_type] = schema
    return schemas


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        path = folder / f"{name}.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas/events")):
        print(path)
