"""The one place that assembles the payment workflow's collaborators from a function's
environment (set by modules/payment_workflow) and the shared clients. Each builder is cached,
so a warm container reads its settings and builds its objects once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import Literal, TypeVar

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from functions.adapters import clients, fraud_stream_wiring
from functions.adapters.acquirer_http import HttpAcquirerConnector, SecretsManagerCredential
from functions.adapters.acquirer_requests import AcquirerRequestsTable
from functions.adapters.emf_metrics import EmfMetrics
from functions.adapters.fraud_monitoring_table import TableTraMonitoring
from functions.adapters.ledger_table import DynamoLedgerStore
from functions.adapters.payment_events import EventBridgePublisher
from functions.adapters.payments_table import AcquirerOperationsTable, PaymentsTable
from functions.adapters.risk_tables import TableMandates, TableMitAgreements, TableScaCounters
from functions.domain.acquirer import AcquirerConnector, AcquirerSimulator
from functions.domain.fees import FeeSchedule
from functions.domain.fraud import FraudRules, RulesFraudScorer
from functions.domain.fx import EurRates
from functions.domain.geo import IpCountryTable, IssuerCountryTable
from functions.domain.ledger import PaymentLedger, PostingRules
from functions.domain.limits import DEFAULT_MAX_AMOUNT_EUR, AmountCaps
from functions.domain.payments import DEFAULT_AUTHORIZATION_VALIDITY
from functions.domain.sca import ScaPolicy
from functions.domain.three_ds import SimulatedAcs
from functions.services.fraud_monitoring import FraudRateMonitor
from functions.services.risk import ScaService
from functions.services.risk_assessment import RiskAssessment

DEFAULT_EUR_RATES = '{"EUR": "1"}'
# The built-in documentation IP ranges and test-card BINs serve this environment only.
TEST_DATA_ENVIRONMENT = "local"
logger = Logger(child=True)


def _tra_rate(env: Mapping[str, str]) -> Decimal | None:
    """SCA_TRA_FRAUD_RATE_PERCENT ("0.015" is 0.015 %); the old integer
    SCA_TRA_REFERENCE_FRAUD_RATE_BPS is read while a deployment still sets it."""
    percent = env.get("SCA_TRA_FRAUD_RATE_PERCENT", "")
    if percent:
        return Decimal(percent)
    bps = env.get("SCA_TRA_REFERENCE_FRAUD_RATE_BPS", "")
    return Decimal(int(bps)) / 100 if bps else None


class PaymentFunctionSettings(BaseModel):
    """What the payment functions read from their environment; missing names fail at the
    first use with the variable named, not half-way through a payment."""

    model_config = ConfigDict(frozen=True)

    environment: str = Field(default="local")
    payments_table: str = ""
    idempotency_table: str = ""
    ledger_table: str = ""
    ledger_shards: int = Field(default=8, ge=1, le=64)
    # The merchant service charge schedule (domain.fees); empty charges nothing.
    merchant_service_charge: str = ""
    state_machine_arn: str = ""
    event_bus_name: str = ""
    event_log_group_name: str = ""
    # The largest payment, in EUR, converted per currency (domain.limits): one number of minor
    # units would mean EUR 1,000,000 and IDR 1,000,000 (about EUR 58) alike.
    max_amount_eur: Decimal = Field(default=DEFAULT_MAX_AMOUNT_EUR, gt=0)
    max_amount_minor_overrides: str = ""
    eur_rates: str = DEFAULT_EUR_RATES
    fraud_rules: str = ""
    ip_country_ranges: str = ""
    # The PSP's Art. 19 fraud rate in percent; None (default) offers no TRA exemption.
    sca_tra_fraud_rate_percent: Decimal | None = Field(default=None, gt=0, le=Decimal("0.13"))
    sca_review_steps_up: bool = True
    sca_challenge_one_leg_out: bool = False
    sca_acquirer_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    issuer_country_prefixes: str = ""
    issuer_country_file: str = ""
    ip_country_file: str = ""
    acquirer_connector: Literal["simulator", "http"] = "simulator"
    acquirer_timeout_ms: int = Field(default=3000, ge=100, le=29_000)
    # The http connector's API and the Secrets Manager secret holding its bearer token.
    acquirer_base_url: str = ""
    acquirer_credential_secret: str = ""
    # Days an uncaptured authorization is kept before the reconciliation cancels it.
    authorization_validity_days: int = Field(
        default=DEFAULT_AUTHORIZATION_VALIDITY.days, ge=1, le=30
    )
    # Whether a reconciliation run that does not say repairs (the scheduled one) does.
    reconcile_repair: bool = False

    @classmethod
    def from_environ(cls) -> PaymentFunctionSettings:
        env = os.environ
        return cls(
            environment=env.get("PAYMENTS_ENVIRONMENT", "local"),
            payments_table=env.get("PAYMENTS_TABLE_NAME", ""),
            idempotency_table=env.get("IDEMPOTENCY_TABLE_NAME", ""),
            ledger_table=env.get("LEDGER_TABLE_NAME", ""),
            ledger_shards=int(env.get("LEDGER_SHARDS") or 8),
            merchant_service_charge=env.get("MERCHANT_SERVICE_CHARGE", ""),
            state_machine_arn=env.get("STATE_MACHINE_ARN", ""),
            event_bus_name=env.get("EVENT_BUS_NAME", ""),
            event_log_group_name=env.get("EVENT_LOG_GROUP_NAME", ""),
            max_amount_eur=Decimal(env.get("MAX_AMOUNT_EUR") or DEFAULT_MAX_AMOUNT_EUR),
            max_amount_minor_overrides=env.get("MAX_AMOUNT_MINOR_OVERRIDES", ""),
            eur_rates=env.get("EUR_RATES") or DEFAULT_EUR_RATES,
            fraud_rules=env.get("FRAUD_RULES", ""),
            ip_country_ranges=env.get("IP_COUNTRY_RANGES", ""),
            sca_tra_fraud_rate_percent=_tra_rate(env),
            sca_review_steps_up=env.get("SCA_REVIEW_STEPS_UP", "true").lower() != "false",
            sca_challenge_one_leg_out=env.get("SCA_CHALLENGE_ONE_LEG_OUT", "").lower() == "true",
            sca_acquirer_country=env.get("SCA_ACQUIRER_COUNTRY") or None,
            issuer_country_prefixes=env.get("ISSUER_COUNTRY_PREFIXES", ""),
            issuer_country_file=env.get("ISSUER_COUNTRY_FILE", ""),
            ip_country_file=env.get("IP_COUNTRY_FILE", ""),
            acquirer_connector=env.get("ACQUIRER_CONNECTOR", "simulator"),
            acquirer_timeout_ms=int(env.get("ACQUIRER_TIMEOUT_MS") or 3000),
            acquirer_base_url=env.get("ACQUIRER_BASE_URL", ""),
            acquirer_credential_secret=env.get("ACQUIRER_CREDENTIAL_SECRET_ARN", ""),
            authorization_validity_days=int(
                env.get("AUTHORIZATION_VALIDITY_DAYS") or DEFAULT_AUTHORIZATION_VALIDITY.days
            ),
            reconcile_repair=env.get("RECONCILE_REPAIR", "").lower() == "true",
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
    current = settings()
    return PostingRules(
        shards=current.ledger_shards,
        fees=FeeSchedule.from_json(current.merchant_service_charge),
    )


@cache
def ledger() -> PaymentLedger:
    return PaymentLedger(ledger_store(), posting_rules())


@cache
def eur_rates() -> EurRates:
    return EurRates.from_json(settings().eur_rates)


@cache
def event_publisher() -> EventBridgePublisher:
    return EventBridgePublisher(clients.events())


@cache
def amount_caps() -> AmountCaps:
    s = settings()
    return AmountCaps.from_config(eur_rates(), s.max_amount_eur, s.max_amount_minor_overrides)


@cache
def fraud_scorer() -> RulesFraudScorer:
    text = settings().fraud_rules
    return RulesFraudScorer(FraudRules.from_json(text) if text else FraudRules())


_CountryTable = TypeVar("_CountryTable", IpCountryTable, IssuerCountryTable)


def _country_table(kind: type[_CountryTable], path: str, inline: str) -> _CountryTable:
    """A data file (shipped with the function or on a layer), else inline JSON; the built-in
    test data only in the local environment, elsewhere an empty table (countries unknown, the
    country rules stay silent and the SCA scope treats the card as in scope)."""
    if path:
        return kind.from_file(path)
    if inline:
        return kind.from_json(inline)
    if settings().environment == TEST_DATA_ENVIRONMENT:
        return kind.TEST
    logger.warning("no country source configured", extra={"source": kind.__name__})
    return kind({})


@cache
def ip_countries() -> IpCountryTable:
    """The GeoIP source: IP_COUNTRY_FILE, else IP_COUNTRY_RANGES."""
    current = settings()
    return _country_table(IpCountryTable, current.ip_country_file, current.ip_country_ranges)


@cache
def issuer_countries() -> IssuerCountryTable:
    """The BIN source: ISSUER_COUNTRY_FILE, else ISSUER_COUNTRY_PREFIXES."""
    current = settings()
    return _country_table(
        IssuerCountryTable, current.issuer_country_file, current.issuer_country_prefixes
    )


@cache
def sca_policy() -> ScaPolicy:
    current = settings()
    return ScaPolicy(
        rates=eur_rates(),
        tra_fraud_rate_percent=current.sca_tra_fraud_rate_percent,
        review_steps_up=current.sca_review_steps_up,
        challenge_one_leg_out=current.sca_challenge_one_leg_out,
        acquirer_country=current.sca_acquirer_country,
    )


@cache
def tra_monitoring() -> TableTraMonitoring:
    """The monitored TRA state: stored by the settle run, read by assess_risk."""
    return TableTraMonitoring(clients.dynamodb(), settings().required("payments_table"))


def fraud_rate_monitor() -> FraudRateMonitor:
    return FraudRateMonitor(tra_monitoring(), eur_rates())


@cache
def mit_agreements() -> TableMitAgreements:
    """The merchant-initiated agreements: opened by assess_risk after a passed challenge, confirmed
    by process_payment with the authorization's network reference (``confirm``)."""
    return TableMitAgreements(clients.dynamodb(), settings().required("payments_table"))


@cache
def sca_service() -> ScaService:
    table = payments_table()
    return ScaService(
        counters=TableScaCounters(table),
        mandates=TableMandates(table),
        agreements=mit_agreements(),
        issuers=issuer_countries(),
        acs=access_control_server(),
        policy=sca_policy,
        monitoring=tra_monitoring(),
    )


def risk_assessment() -> RiskAssessment:
    """The risk step's use case over this environment's tables and the fraud stream's view
    (None when the platform has no stream). Not cached: its parts are."""
    return RiskAssessment(
        scorer=fraud_scorer(),
        velocity=payments_table(),
        rates=eur_rates(),
        ips=ip_countries(),
        issuers=issuer_countries(),
        stream=fraud_stream_wiring.stream_reading(),
        sca=sca_service(),
        payments=payments_table(),
        metrics=metrics(),
    )


@cache
def metrics() -> EmfMetrics:
    return EmfMetrics()


@cache
def access_control_server() -> SimulatedAcs:
    return SimulatedAcs(settings().simulator_key)


@cache
def acquirer() -> AcquirerConnector:
    current = settings()
    if current.acquirer_connector == "http":
        secret = current.acquirer_credential_secret
        return HttpAcquirerConnector(
            current.required("acquirer_base_url"),
            timeout_s=current.acquirer_timeout_ms / 1000,
            credentials=SecretsManagerCredential(clients.secretsmanager(), secret)
            if secret
            else None,
        )
    return AcquirerSimulator(
        current.simulator_key,
        timeout_s=current.acquirer_timeout_ms / 1000,
        records=acquirer_records(),
        request_log=AcquirerRequestsTable(clients.dynamodb(), current.required("payments_table")),
    )


@cache
def acquirer_records() -> AcquirerOperationsTable:
    """The simulator's record of what it executed (shared by every container and reconcile)."""
    return AcquirerOperationsTable(clients.dynamodb(), settings().required("payments_table"))


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
        issuer_countries,
        sca_policy,
        tra_monitoring,
        sca_service,
        mit_agreements,
        access_control_server,
        acquirer,
        acquirer_records,
        amount_caps,
        event_publisher,
        metrics,
    ):
        builder.cache_clear()
