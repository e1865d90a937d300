"""The SCA decision table. Test ids cite the RTS article (Commission Delegated Regulation
(EU) 2018/389) or PSD2 article the case exercises."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.domain.fraud import FraudDecision
from functions.domain.fx import EurRates
from functions.domain.sca import (
    Exemption,
    LowValueCounter,
    RecurringMandate,
    ScaDecision,
    ScaPolicy,
    ScaRequest,
    after_authentication,
    decide,
)
from tests.unit.domain.monitored import MONITORED

RATES = EurRates(rates={"USD": Decimal("0.92"), "JPY": Decimal("0.006")})
LV = Exemption.LOW_VALUE
TRA = Exemption.TRANSACTION_RISK_ANALYSIS
REC = Exemption.RECURRING
MIT = Exemption.MERCHANT_INITIATED
MANDATE = RecurringMandate(amount_minor=999, currency="EUR", merchant_id="m_1", authenticated=True)


def policy(tra_bps: int | None = None) -> ScaPolicy:
    return ScaPolicy(rates=RATES, tra_reference_fraud_rate_bps=tra_bps, monitoring=MONITORED)


@dataclass(frozen=True)
class Case:
    amount: int
    exemption: Exemption | None
    tra_bps: int | None = None
    currency: str = "EUR"
    fraud: str = "allow"
    counter: tuple[int, int] = (0, 0)
    mandate: RecurringMandate | None = None
    merchant: str = "m_1"
    reasons: tuple[str, ...] = ()

    def decide(self) -> ScaDecision:
        request = ScaRequest(
            merchant_id=self.merchant,
            amount_minor=self.amount,
            currency=self.currency,
            exemption_requested=self.exemption,
            fraud_decision=self.fraud,
            counter=LowValueCounter(*self.counter),
            mandate=self.mandate,
            fraud_reasons=self.reasons,
        )
        return decide(request, policy(self.tra_bps))


def exempt(
    exemption: Exemption, reason: str, eur: int | None, counter: tuple[int, int]
) -> tuple[bool, Exemption | None, str, int | None, tuple[int, int]]:
    return (False, exemption, reason, eur, counter)


def sca(
    reason: str, eur: int | None, counter: tuple[int, int] = (0, 0)
) -> tuple[bool, Exemption | None, str, int | None, tuple[int, int]]:
    return (True, None, reason, eur, counter)


TABLE = [
    # Art. 16 low value: <= EUR 30, <= 5 consecutive, <= EUR 100 cumulative since the last SCA.
    pytest.param(
        Case(3000, LV),
        exempt(LV, "low_value_within_limits", 3000, (1, 3000)),
        id="art16-exactly-30-eur",
    ),
    pytest.param(Case(3001, LV), sca("amount_above_low_value_limit", 3001), id="art16-30.01-eur"),
    pytest.param(
        Case(0, LV),
        exempt(LV, "low_value_within_limits", 0, (1, 0)),
        id="art16-zero-amount-still-counts",
    ),
    pytest.param(
        Case(1000, LV, counter=(4, 4000)),
        exempt(LV, "low_value_within_limits", 1000, (5, 5000)),
        id="art16-fifth-consecutive",
    ),
    pytest.param(
        Case(1000, LV, counter=(5, 5000)),
        sca("low_value_count_exceeded", 1000, (5, 5000)),
        id="art16-sixth-consecutive",
    ),
    pytest.param(
        Case(3000, LV, counter=(3, 7000)),
        exempt(LV, "low_value_within_limits", 3000, (4, 10000)),
        id="art16-cumulative-exactly-100-eur",
    ),
    pytest.param(
        Case(3000, LV, counter=(3, 7001)),
        sca("low_value_cumulative_exceeded", 3000, (3, 7001)),
        id="art16-cumulative-100.01-eur",
    ),
    pytest.param(
        Case(1, LV, counter=(4, 10000)),
        sca("low_value_cumulative_exceeded", 1, (4, 10000)),
        id="art16-cumulative-one-cent-over",
    ),
    pytest.param(
        Case(3001, LV, counter=(5, 10000)),
        sca("amount_above_low_value_limit", 3001, (5, 10000)),
        id="art16-amount-reported-before-counters",
    ),
    pytest.param(
        Case(3200, LV, currency="USD"),
        exempt(LV, "low_value_within_limits", 2944, (1, 2944)),
        id="art16-usd-converted-at-0.92",
    ),
    pytest.param(
        Case(3261, LV, currency="USD"),
        sca("amount_above_low_value_limit", 3001),
        id="art16-usd-30.0012-eur-rounds-up-over-limit",
    ),
    pytest.param(
        Case(5000, LV, currency="JPY"),
        exempt(LV, "low_value_within_limits", 3000, (1, 3000)),
        id="art16-jpy-zero-decimal-exactly-30-eur",
    ),
    pytest.param(
        Case(5001, LV, currency="JPY"),
        sca("amount_above_low_value_limit", 3001),
        id="art16-jpy-zero-decimal-over",
    ),
    pytest.param(
        Case(1000, LV, currency="CHF"), sca("no_rate_for_currency", None), id="art16-no-eur-rate"
    ),
    pytest.param(
        Case(1000, LV, fraud="review"),
        sca("fraud_review_step_up", 1000),
        id="art2-review-steps-up-instead-of-low-value",
    ),
    # Art. 18 transaction risk analysis, bands of the Annex (remote card payments).
    pytest.param(
        Case(10000, TRA, tra_bps=13),
        exempt(TRA, "tra_within_band", 10000, (1, 10000)),
        id="art18-13bps-exactly-100-eur",
    ),
    pytest.param(
        Case(10001, TRA, tra_bps=13),
        sca("tra_amount_above_band", 10001),
        id="art18-13bps-100.01-eur",
    ),
    pytest.param(
        Case(25000, TRA, tra_bps=6),
        exempt(TRA, "tra_within_band", 25000, (1, 25000)),
        id="art18-6bps-exactly-250-eur",
    ),
    pytest.param(
        Case(25001, TRA, tra_bps=6), sca("tra_amount_above_band", 25001), id="art18-6bps-250.01-eur"
    ),
    pytest.param(
        Case(50000, TRA, tra_bps=1),
        exempt(TRA, "tra_within_band", 50000, (1, 50000)),
        id="art18-1bps-exactly-500-eur",
    ),
    pytest.param(
        Case(50001, TRA, tra_bps=1), sca("tra_amount_above_band", 50001), id="art18-1bps-500.01-eur"
    ),
    pytest.param(
        Case(25000, TRA, tra_bps=5),
        exempt(TRA, "tra_within_band", 25000, (1, 25000)),
        id="art18-5bps-between-bands-uses-250-eur",
    ),
    pytest.param(
        Case(25001, TRA, tra_bps=5),
        sca("tra_amount_above_band", 25001),
        id="art18-5bps-between-bands-over",
    ),
    pytest.param(
        Case(10001, TRA, tra_bps=7),
        sca("tra_amount_above_band", 10001),
        id="art18-7bps-only-the-100-eur-band",
    ),
    pytest.param(
        Case(100, TRA, tra_bps=14), sca("tra_not_offered", 100), id="art18-14bps-above-every-band"
    ),
    pytest.param(Case(100, TRA, tra_bps=None), sca("tra_not_offered", 100), id="art18-not-offered"),
    pytest.param(
        Case(100, TRA, tra_bps=1, fraud="review"),
        sca("fraud_review_step_up", 100),
        id="art18-review-decision-steps-up",
    ),
    pytest.param(
        Case(1000, TRA, tra_bps=13, counter=(2, 2000)),
        exempt(TRA, "tra_within_band", 1000, (3, 3000)),
        id="art16-counts-a-tra-exempted-payment",
    ),
    pytest.param(
        Case(100, TRA, tra_bps=13, currency="CHF"),
        sca("no_rate_for_currency", None),
        id="art18-no-eur-rate",
    ),
    pytest.param(
        Case(10869, TRA, tra_bps=13, currency="USD"),
        exempt(TRA, "tra_within_band", 10000, (1, 10000)),
        id="art18-usd-99.9948-eur-rounds-up-to-exactly-100",
    ),
    pytest.param(
        Case(10870, TRA, tra_bps=13, currency="USD"),
        sca("tra_amount_above_band", 10001),
        id="art18-usd-100.004-eur-rounds-up-over-band",
    ),
    # Art. 14 recurring transactions: same amount, same payee, series set up with SCA.
    pytest.param(
        Case(999, REC, mandate=MANDATE),
        exempt(REC, "recurring_fixed_amount", 999, (0, 0)),
        id="art14-same-amount",
    ),
    pytest.param(
        Case(1000, REC, mandate=MANDATE),
        sca("recurring_amount_changed", 1000),
        id="art14-different-amount",
    ),
    pytest.param(
        Case(999, REC, currency="USD", mandate=MANDATE),
        sca("recurring_amount_changed", 920),
        id="art14-different-currency",
    ),
    pytest.param(
        Case(999, REC), sca("recurring_first_payment", 999), id="art14-no-mandate-first-payment"
    ),
    pytest.param(
        Case(999, REC, mandate=RecurringMandate(999, "EUR", "m_1", False)),
        sca("recurring_first_payment", 999),
        id="art14-unauthenticated-mandate",
    ),
    pytest.param(
        Case(999, REC, mandate=MANDATE, merchant="m_2"),
        sca("recurring_first_payment", 999),
        id="art14-other-payee",
    ),
    pytest.param(
        Case(999, REC, currency="CHF", mandate=RecurringMandate(999, "CHF", "m_1", True)),
        exempt(REC, "recurring_fixed_amount", None, (0, 0)),
        id="art14-needs-no-eur-rate",
    ),
    # A self-declared MIT flag without a stored agreement is no exemption (EBA Q&A 2018_4031);
    # tests/unit/domain/test_sca_rts.py has the agreement cases.
    pytest.param(
        Case(10**9, MIT, counter=(5, 10000)),
        sca("merchant_initiated_no_agreement", 10**9, (5, 10000)),
        id="eba-2018-4031-mit-flag-alone",
    ),
    pytest.param(
        Case(10**9, MIT, currency="CHF", fraud="review"),
        sca("fraud_review_step_up", None),
        id="art2-review-mit-steps-up",
    ),
    # No exemption requested: TRA (Art. 18) first, then low value (Art. 16).
    pytest.param(
        Case(2000, None, tra_bps=13, counter=(1, 500)),
        exempt(TRA, "tra_within_band", 2000, (2, 2500)),
        id="art18-tried-first-counts-towards-art16",
    ),
    pytest.param(
        Case(2000, None, tra_bps=None, counter=(1, 500)),
        exempt(LV, "low_value_within_limits", 2000, (2, 2500)),
        id="art16-when-tra-not-offered",
    ),
    pytest.param(
        Case(2000, None, tra_bps=13, fraud="review"),
        sca("fraud_review_step_up", 2000),
        id="art2-review-gets-neither-art18-nor-art16",
    ),
    pytest.param(
        Case(20000, None, tra_bps=13), sca("no_exemption", 20000), id="art16-art18-neither-applies"
    ),
    pytest.param(
        Case(1000, None, counter=(5, 5000)),
        sca("no_exemption", 1000, (5, 5000)),
        id="art16-exhausted-without-tra",
    ),
    pytest.param(
        Case(1000, None, currency="CHF", tra_bps=1),
        sca("no_rate_for_currency", None),
        id="art16-art18-no-eur-rate",
    ),
    # A requested exemption that fails means SCA, not another exemption.
    pytest.param(
        Case(5000, LV, tra_bps=13),
        sca("amount_above_low_value_limit", 5000),
        id="art16-requested-no-fallback-to-art18",
    ),
    pytest.param(
        Case(1000, TRA, tra_bps=13, reasons=("velocity_device",)),
        sca("tra_risk_factor_present", 1000),
        id="art18-requested-no-fallback-to-art16",
    ),
    pytest.param(
        Case(1000, REC, tra_bps=13),
        sca("recurring_first_payment", 1000),
        id="art14-requested-no-fallback",
    ),
    # A blocked payment never gets an exemption.
    pytest.param(Case(100, MIT, fraud="block"), sca("fraud_blocked", 100), id="art2-blocked-mit"),
    pytest.param(
        Case(100, None, tra_bps=13, fraud="block"),
        sca("fraud_blocked", 100),
        id="art2-blocked-low-value",
    ),
]


@pytest.mark.parametrize(("case", "expected"), TABLE)
def test_decision_table(
    case: Case, expected: tuple[bool, Exemption | None, str, int | None, tuple[int, int]]
) -> None:
    decision = case.decide()
    after = decision.counter_after
    actual = (
        decision.required,
        decision.exemption,
        decision.reason,
        decision.amount_eur_minor,
        (after.consecutive, after.cumulative_eur_minor),
    )
    assert actual == expected


@pytest.mark.parametrize(
    ("bps", "limit"),
    [
        (None, None),
        (0, 50000),
        (1, 50000),
        (2, 25000),
        (5, 25000),
        (6, 25000),
        (7, 10000),
        (13, 10000),
        (14, None),
    ],
)
def test_tra_limit_by_fraud_rate(bps: int | None, limit: int | None) -> None:
    assert policy(bps).tra_limit_eur_minor() == limit


def test_a_psp_may_set_lower_limits() -> None:
    strict = ScaPolicy(
        rates=RATES, tra_reference_fraud_rate_bps=None, low_value_limit_eur_minor=1000
    )
    request = ScaRequest("m_1", 1001, "EUR", LV, "allow", LowValueCounter())
    assert decide(request, strict).reason == "amount_above_low_value_limit"


def test_after_authentication_resets_the_counter() -> None:
    assert after_authentication(LowValueCounter(5, 10000)) == LowValueCounter(0, 0)


def test_codes_may_be_given_as_strings() -> None:
    request = ScaRequest("m_1", 100, "EUR", "low_value", FraudDecision.ALLOW, LowValueCounter())  # type: ignore[arg-type]
    assert request.exemption_requested is Exemption.LOW_VALUE
    assert decide(request, policy()).exemption is Exemption.LOW_VALUE


@pytest.mark.parametrize(
    ("exemption", "fraud", "named"),
    [("low_value", "maybe", "maybe"), ("delegated", "allow", "delegated")],
)
def test_unknown_codes_are_refused(exemption: str, fraud: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        ScaRequest("m_1", 100, "EUR", exemption, fraud, LowValueCounter())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "build",
    [
        lambda: LowValueCounter(-1, 0),
        lambda: LowValueCounter(0, -1),
        lambda: ScaRequest("m_1", -1, "EUR", None, "allow", LowValueCounter()),
        lambda: ScaPolicy(rates=RATES, tra_reference_fraud_rate_bps=-1),
    ],
)
def test_negative_values_are_refused(build: object) -> None:
    with pytest.raises(ValueError, match="negative"):
        build()  # type: ignore[operator]


payments = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=4000),  # EUR cents, some above the EUR 30 limit
        st.sampled_from([LV, None]),
        st.booleans(),  # SCA performed when required (the payer may also abandon)
    ),
    max_size=40,
)


@given(payments=payments, tra_bps=st.sampled_from([None, 13]))
def test_low_value_counter_stays_within_the_rts_limits(
    payments: list[tuple[int, Exemption | None, bool]], tra_bps: int | None
) -> None:
    counter = LowValueCounter()
    exempted_since_sca: list[int] = []
    for amount, requested, authenticates in payments:
        request = ScaRequest("m_1", amount, "EUR", requested, "allow", counter)
        decision = decide(request, policy(tra_bps))
        if decision.exemption is LV:
            assert amount <= 3000
            assert counter.consecutive < 5 and counter.cumulative_eur_minor + amount <= 10000
        if decision.exemption in (LV, TRA):  # Art. 16 counts every payment without SCA
            exempted_since_sca.append(amount)
        else:
            assert decision.counter_after == counter
        counter = decision.counter_after
        assert counter == LowValueCounter(len(exempted_since_sca), sum(exempted_since_sca))
        if decision.required and authenticates:
            counter = after_authentication(counter)
            exempted_since_sca.clear()
            assert counter == LowValueCounter()
