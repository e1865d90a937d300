"""The one place that assembles the payment workflow's collaborators from a function's
environment (set by modules/payment_workflow) and the shared clients. Each builder is cached,
so a warm container reads its settings and builds its objects once."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from functions.adapters import clients
from functions.adapters.ledger_table import DynamoLedgerStore
from functions.adapters.payments_table import PaymentsTable
from functions.domain.acquirer import AcquirerConnector, AcquirerSimulator
from functions.domain.fraud import FraudRules, RulesFraudScorer
from functions.domain.fx import EurRates
from functions.domain.geo import IpCountryTable, IssuerCountryTable
from functions.domain.ledger import PaymentLedger, PostingRules
from functions.domain.principals import MerchantAccess
from functions.domain.sca import ScaPolicy
from functions.domain.three_ds import SimulatedAcs

DEFAULT_EUR_RATES = '{"EUR": "1"}'


class PaymentFunctionSettings(BaseModel):
    """What the payment functions read from their environment; missing names fail at the
    first use with the variable named, not half-way through a payment."""

    model_config = ConfigDict(frozen=True)

    environment: str = Field(default="local")
    payments_table: str = ""
    idempotency_table: str = ""
    ledger_table: str = ""
    ledger_shards: int = Field(default=8, ge=1, le=64)
    state_machine_arn: str = ""
    event_bus_name: str = ""
    event_log_group_name: str = ""
    max_amount_minor: int = Field(default=100_000_000, gt=0)
    eur_rates: str = DEFAULT_EUR_RATES
    fraud_rules: str = ""
    ip_country_ranges: str = ""
    sca_tra_reference_fraud_rate_bps: int | None = Field(default=None, ge=1, le=13)
    merchant_principals: str = ""
    acquirer_connector: str = "simulator"
    acquirer_timeout_ms: int = Field(default=3000, ge=100, le=29_000)

    @classmethod
    def from_environ(cls) -> PaymentFunctionSettings:
        env = os.environ
        tra = env.get("SCA_TRA_REFERENCE_FRAUD_RATE_BPS", "")
        return cls(
            environment=env.get("PAYMENTS_ENVIRONMENT", "local"),
            payments_table=env.get("PAYMENTS_TABLE_NAME", ""),
            idempotency_table=env.get("IDEMPOTENCY_TABLE_NAME", ""),
            ledger_table=env.get("LEDGER_TABLE_NAME", ""),
            ledger_shards=int(env.get("LEDGER_SHARDS") or 8),
            state_machine_arn=env.get("STATE_MACHINE_ARN", ""),
            event_bus_name=env.get("EVENT_BUS_NAME", ""),
            event_log_group_name=env.get("EVENT_LOG_GROUP_NAME", ""),
            max_amount_minor=int(env.get("MAX_AMOUNT_MINOR") or 100_000_000),
            eur_rates=env.get("EUR_RATES") or DEFAULT_EUR_RATES,
            fraud_rules=env.get("FRAUD_RULES", ""),
            ip_country_ranges=env.get("IP_COUNTRY_RANGES", ""),
            sca_tra_reference_fraud_rate_bps=int(tra) if tra else None,
            merchant_principals=env.get("MERCHANT_PRINCIPALS", ""),
            acquirer_connector=env.get("ACQUIRER_CONNECTOR", "simulator"),
            acquirer_timeout_ms=int(env.get("ACQUIRER_TIMEOUT_MS") or 3000),
        )

    def required(self, name: str) -> str:
        value = getattr(self, name)
        if not value:
            raise RuntimeError(f"{name.upper()} is not configured for this function")
        return str(value)

    @property
    def simulator_key(self) -> bytes:
        # The simulators' keys only make their identifiers deterministic; they guard nothing.
        return f"blueprint-simulator:{self.environment}".encode()


@cache
def settings() -> PaymentFunctionSettings:
    return PaymentFunctionSettings.from_environ()


@cache
def payments_table() -> PaymentsTable:
    return PaymentsTable(clients.dynamodb(), settings().required("payments_table"))


@cache
def ledger_store() -> DynamoLedgerStore:
    return DynamoLedgerStore(
        clients.dynamodb(), settings().required("ledger_table"), shards=settings().ledger_shards
    )


@cache
def posting_rules() -> PostingRules:
    return PostingRules(shards=settings().ledger_shards)


@cache
def ledger() -> PaymentLedger:
    return PaymentLedger(ledger_store(), posting_rules())


@cache
def eur_rates() -> EurRates:
    return EurRates.from_json(settings().eur_rates)


@cache
def fraud_scorer() -> RulesFraudScorer:
    text = settings().fraud_rules
    return RulesFraudScorer(FraudRules.from_json(text) if text else FraudRules())


@cache
def ip_countries() -> IpCountryTable:
    text = settings().ip_country_ranges
    return IpCountryTable.from_json(text) if text else IpCountryTable.DEFAULT


def issuer_countries() -> IssuerCountryTable:
    return IssuerCountryTable.DEFAULT


@cache
def sca_policy() -> ScaPolicy:
    return ScaPolicy(
        rates=eur_rates(),
        tra_reference_fraud_rate_bps=settings().sca_tra_reference_fraud_rate_bps,
    )


@cache
def merchant_access() -> MerchantAccess:
    return MerchantAccess.from_json(settings().merchant_principals)


@cache
def access_control_server() -> SimulatedAcs:
    return SimulatedAcs(settings().simulator_key)


@cache
def acquirer() -> AcquirerConnector:
    current = settings()
    if current.acquirer_connector != "simulator":
        raise RuntimeError(f"unknown ACQUIRER_CONNECTOR {current.acquirer_connector!r}")
    return AcquirerSimulator(current.simulator_key, timeout_s=current.acquirer_timeout_ms / 1000)


def clear() -> None:
    """Forget every cached object (tests that change the environment)."""
    for builder in (
        settings,
        payments_table,
        ledger_store,
        posting_rules,
        ledger,
        eur_rates,
        fraud_scorer,
        ip_countries,
        sca_policy,
        merchant_access,
        access_control_server,
        acquirer,
    ):
        builder.cache_clear()
