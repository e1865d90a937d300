"""The hot path reads what the stream knows (moto, in process): a card, device or IP on the
block list declines the payment with a stream reason code, an expired block does not; the
model decides only in ``strictest`` mode, is recorded in ``shadow`` mode, and its reasons are
reasons the SCA step classifies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters.fraud_stream_tables import (
    DynamoBlockList,
    DynamoFeatureStore,
    DynamoStreamView,
)
from functions.contracts.steps import FraudResult
from functions.domain.fraud import FraudRules, RiskFactor, RulesFraudScorer, risk_factors
from functions.domain.fraud_features import FEATURE_NAMES, FraudEvent, StreamPosition
from functions.domain.fraud_model import default_model
from functions.domain.fx import EurRates
from functions.domain.geo import IpCountryTable, IssuerCountryTable
from functions.services.fraud_scoring import (
    ModelMode,
    StreamReading,
    assess_payment,
    model_reason,
)
from tests.adapters.payment_tables import REGION, fake_aws_environment
from tests.adapters.test_fraud_stream import BLOCKS, FEATURES, create_tables

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
RATES = EurRates.from_json('{"EUR": "1"}')


class NoVelocity:
    def count_since(self, index: str, key: str, value: str, since: str) -> int:
        return 0


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    fake_aws_environment(monkeypatch)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client)
        yield client


def payment(device: str = "dev-1", ip: str = "192.0.2.7") -> dict[str, Any]:
    return {
        "payment_id": "pay_1",
        "merchant_id": "m_1",
        "amount": 1_500,
        "currency": "EUR",
        "customer": {"id": "c_1", "ip": ip, "country": "DE", "device_id": device},
        "card": {"token": "tok_1", "brand": "visa", "last4": "4242", "card_key": "ck_1"},
    }


def assess(ddb: Any, mode: ModelMode, state: dict[str, Any] | None = None) -> FraudResult:
    reading = StreamReading(DynamoStreamView(ddb, FEATURES, BLOCKS), default_model(), mode)
    result = assess_payment(
        state or payment(),
        RulesFraudScorer(FraudRules()),
        NoVelocity(),
        RATES,
        IpCountryTable.TEST,
        IssuerCountryTable.TEST,
        reading,
        NOW,
    )
    return FraudResult.model_validate(result)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("card#card#ck_1", "stream_blocked_card"),
        ("device#dev-1", "stream_blocked_device"),
        ("ip#192.0.2.7", "stream_blocked_ip"),
    ],
)
def test_a_blocked_subject_declines_with_a_stream_reason(ddb: Any, key: str, reason: str) -> None:
    assert assess(ddb, ModelMode.OFF).decision == "allow"
    until = int(NOW.timestamp()) + 600
    DynamoBlockList(ddb, BLOCKS).block(key, "fa_" + "1" * 32, "card_testing", until)
    result = assess(ddb, ModelMode.OFF)
    assert (result.decision, result.score) == ("block", 100)
    assert reason in result.reasons


def test_a_block_of_someone_else_or_past_its_expiry_is_not_honoured(ddb: Any) -> None:
    blocks = DynamoBlockList(ddb, BLOCKS)
    blocks.block("device#dev-2", "fa_" + "2" * 32, "card_testing", int(NOW.timestamp()) + 600)
    blocks.block("device#dev-1", "fa_" + "3" * 32, "card_testing", int(NOW.timestamp()))
    assert assess(ddb, ModelMode.OFF).decision == "allow"


def burst_on_card(ddb: Any) -> None:
    store = DynamoFeatureStore(ddb, FEATURES)
    at = int(NOW.timestamp())
    for n in range(12):
        event = FraudEvent(
            f"e{n}", at - 300 + n, "card#ck_1", "m_1", 100, declined=True, device_id=f"d{n}"
        )
        store.apply(event, StreamPosition("shardId-0", n), store.read(event), at)


def test_shadow_mode_records_the_model_and_lets_the_rules_decide(ddb: Any) -> None:
    burst_on_card(ddb)
    result = assess(ddb, ModelMode.SHADOW)
    assert result.shadow is not None and result.shadow.decision == "block"
    assert (result.decision, result.model) == ("allow", "rules-v1")


def test_strictest_mode_takes_the_models_block_with_classified_reasons(ddb: Any) -> None:
    burst_on_card(ddb)
    result = assess(ddb, ModelMode.STRICTEST)
    assert result.decision == "block" and result.shadow is None
    assert result.model is not None and result.model.startswith("rules-v1+")
    assert result.reasons and RiskFactor.UNCLASSIFIED not in risk_factors(result.reasons)


def test_the_risk_step_reads_one_item_per_subject_and_the_block_list_in_one_call(
    ddb: Any,
) -> None:
    """Five feature items (card, device, IP, merchant, BIN) and three block-list entries (card,
    device, IP), in one BatchGetItem; not an item per window series."""
    burst_on_card(ddb)
    requests: list[dict[str, Any]] = []
    ddb.meta.events.register(
        "provide-client-params.dynamodb.BatchGetItem",
        lambda params, **_: requests.append(params["RequestItems"]),
    )
    state = payment()
    state["card"]["first6"] = "424242"
    assess(ddb, ModelMode.SHADOW, state)
    assert len(requests) == 1
    assert sorted(k["pk"]["S"] for k in requests[0][FEATURES]["Keys"]) == [
        "bin#424242",
        "card#card#ck_1",
        "device#dev-1",
        "ip#192.0.2.7",
        "merchant#m_1",
    ]
    assert len(requests[0][BLOCKS]["Keys"]) == 3


def test_every_model_feature_maps_to_a_classified_reason() -> None:
    assert RiskFactor.UNCLASSIFIED not in risk_factors(model_reason(f) for f in FEATURE_NAMES)
