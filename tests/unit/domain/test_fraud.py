from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.domain.fraud import (
    CROSS_BORDER_REASONS,
    DEFAULT_WEIGHTS,
    FraudAssessment,
    FraudDecision,
    FraudRules,
    FraudScorer,
    FraudSignals,
    Reason,
    RulesFraudScorer,
)

SCORER: FraudScorer = RulesFraudScorer(FraudRules())

QUIET = FraudSignals(
    amount_minor=5_000,
    currency="EUR",
    amount_eur_minor=5_000,
    card_country="DE",
    ip_country="DE",
    customer_country="DE",
    card_payments_last_hour=0,
    device_payments_last_hour=0,
)


def signals(**changes: Any) -> FraudSignals:
    return dataclasses.replace(QUIET, **changes)


def test_quiet_payment_is_allowed_with_no_reasons() -> None:
    assessment = SCORER.assess(QUIET)
    assert assessment == FraudAssessment(0, FraudDecision.ALLOW, (), "rules-v1")
    assert assessment.to_dict() == {"score": 0, "decision": "allow", "reasons": []}


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({"amount_eur_minor": 100_000}, ()),
        ({"amount_eur_minor": 100_001}, (Reason.AMOUNT_UNUSUAL,)),
        ({"amount_eur_minor": 500_000}, (Reason.AMOUNT_UNUSUAL,)),
        ({"amount_eur_minor": 500_001}, (Reason.AMOUNT_ABOVE_LIMIT,)),
        # No EUR amount: the raw amount counts for EUR only.
        ({"amount_eur_minor": None, "amount_minor": 500_001}, (Reason.AMOUNT_ABOVE_LIMIT,)),
        ({"amount_eur_minor": None, "amount_minor": 100_001}, (Reason.AMOUNT_UNUSUAL,)),
        ({"amount_eur_minor": None, "amount_minor": 9_999_999, "currency": "USD"}, ()),
        ({"amount_eur_minor": None, "amount_minor": 9_999_999, "currency": "JPY"}, ()),
        # The converted amount is what counts, not the raw one.
        ({"amount_minor": 9_999_999, "currency": "JPY", "amount_eur_minor": 61_999}, ()),
        ({"card_payments_last_hour": 4}, ()),
        ({"card_payments_last_hour": 5}, (Reason.VELOCITY_CARD,)),
        ({"device_payments_last_hour": 9}, ()),
        ({"device_payments_last_hour": 10}, (Reason.VELOCITY_DEVICE,)),
        (
            {"ip_country": "US"},
            (Reason.COUNTRY_MISMATCH_CARD_IP, Reason.COUNTRY_MISMATCH_IP_CUSTOMER),
        ),
        (
            {"card_country": "US"},
            (Reason.COUNTRY_MISMATCH_CARD_IP, Reason.COUNTRY_MISMATCH_CARD_CUSTOMER),
        ),
        (
            {"customer_country": "BR"},
            (Reason.COUNTRY_MISMATCH_IP_CUSTOMER, Reason.COUNTRY_MISMATCH_CARD_CUSTOMER),
        ),
        ({"card_country": "de"}, ()),  # case does not make a mismatch
        # Inside the EEA and the UK a foreign card, IP or customer is ordinary: one low reason.
        ({"ip_country": "FR"}, (Reason.COUNTRY_MISMATCH_INTRA_EEA_UK,)),
        ({"card_country": "GB"}, (Reason.COUNTRY_MISMATCH_INTRA_EEA_UK,)),
        ({"card_country": "FR", "ip_country": "NL"}, (Reason.COUNTRY_MISMATCH_INTRA_EEA_UK,)),
        # Unknown countries never count as a mismatch.
        ({"ip_country": None, "customer_country": "US"}, (Reason.COUNTRY_MISMATCH_CARD_CUSTOMER,)),
        ({"card_country": None, "ip_country": "US"}, (Reason.COUNTRY_MISMATCH_IP_CUSTOMER,)),
        ({"card_country": None, "ip_country": None, "customer_country": "FR"}, ()),
        ({"card_country": None, "ip_country": "US", "customer_country": None}, ()),
    ],
)
def test_each_rule_at_its_boundary(changes: dict[str, Any], reasons: tuple[Reason, ...]) -> None:
    assessment = SCORER.assess(signals(**changes))
    assert assessment.reasons == reasons
    weights = FraudRules().weights
    countries = [weights[r] for r in reasons if r.value.startswith("country_mismatch")]
    others = [weights[r] for r in reasons if not r.value.startswith("country_mismatch")]
    assert assessment.score == sum(others) + max(countries, default=0)


def test_item13_one_foreign_card_scores_its_country_mismatch_once() -> None:
    # A US card, paid from a German IP by a German customer: one fact, two reasons, one weight.
    assessment = SCORER.assess(signals(card_country="US"))
    assert assessment.reasons == (
        Reason.COUNTRY_MISMATCH_CARD_IP,
        Reason.COUNTRY_MISMATCH_CARD_CUSTOMER,
    )
    assert assessment.score == 25  # max(25, 15), not 40


def test_item13_intra_eea_uk_use_is_low_risk() -> None:
    # The demo's GB card, German IP and customer: ordinary cross-border use, not review-adjacent.
    assessment = SCORER.assess(signals(card_country="GB"))
    assert (assessment.score, assessment.reasons) == (5, (Reason.COUNTRY_MISMATCH_INTRA_EEA_UK,))
    with_velocity = SCORER.assess(signals(card_country="GB", card_payments_last_hour=5))
    assert with_velocity.decision == FraudDecision.ALLOW  # 45, where it was 80 (block)


@pytest.mark.parametrize(
    ("changes", "score", "decision"),
    [
        ({"amount_eur_minor": 500_001}, 60, FraudDecision.REVIEW),
        ({"card_payments_last_hour": 5}, 40, FraudDecision.ALLOW),
        ({"card_payments_last_hour": 5, "device_payments_last_hour": 10}, 70, "review"),
        ({"amount_eur_minor": 500_001, "ip_country": "US", "customer_country": None}, 85, "block"),
        ({"amount_eur_minor": 500_001, "ip_country": "US", "customer_country": "US"}, 85, "block"),
        ({"amount_eur_minor": 500_001, "ip_country": "FR", "customer_country": "FR"}, 65, "review"),
        ({"amount_eur_minor": 500_001, "card_payments_last_hour": 9}, 100, "block"),
        (
            {
                "amount_eur_minor": 500_001,
                "card_payments_last_hour": 9,
                "device_payments_last_hour": 99,
                "ip_country": "FR",
                "customer_country": "US",
            },
            100,  # capped: 60 + 40 + 30 + max(25, 15, 20)
            "block",
        ),
    ],
)
def test_combinations_and_decisions(changes: dict[str, Any], score: int, decision: str) -> None:
    assessment = SCORER.assess(signals(**changes))
    assert (assessment.score, assessment.decision) == (score, decision)


def test_reasons_are_ordered_by_weight_then_name() -> None:
    assessment = SCORER.assess(
        signals(amount_eur_minor=600_000, ip_country="BR", customer_country="US")
    )
    assert assessment.to_dict() == {
        "score": 85,
        "decision": "block",
        "reasons": [
            "amount_above_limit",  # 60
            "country_mismatch_card_ip",  # 25
            "country_mismatch_ip_customer",  # 20
            "country_mismatch_card_customer",  # 15
        ],
    }
    tied = RulesFraudScorer(FraudRules(weights=dict.fromkeys(Reason, 10)))
    assert tied.assess(signals(card_payments_last_hour=5, ip_country="US")).reasons == (
        Reason.COUNTRY_MISMATCH_CARD_IP,
        Reason.COUNTRY_MISMATCH_IP_CUSTOMER,
        Reason.VELOCITY_CARD,
    )


@pytest.mark.parametrize(
    ("velocity_weight", "decision"),
    [(29, "allow"), (30, "review"), (49, "review"), (50, "block")],
)
def test_thresholds_are_inclusive(velocity_weight: int, decision: str) -> None:
    rules = FraudRules(
        review_threshold=30, block_threshold=50, weights={Reason.VELOCITY_CARD: velocity_weight}
    )
    assessment = RulesFraudScorer(rules).assess(signals(card_payments_last_hour=5))
    assert (assessment.score, assessment.decision) == (velocity_weight, decision)


def test_a_zero_weight_switches_a_rule_off() -> None:
    rules = FraudRules(weights={Reason.VELOCITY_CARD: 0})
    assessment = RulesFraudScorer(rules).assess(signals(card_payments_last_hour=50))
    assert (assessment.score, assessment.reasons) == (0, ())


def test_from_json_overrides_only_what_it_names() -> None:
    rules = FraudRules.from_json(
        '{"review_threshold": 40, "card_velocity_per_hour": 3, "weights": {"velocity_card": 45}}'
    )
    assert (rules.review_threshold, rules.block_threshold) == (40, 80)
    assert rules.card_velocity_per_hour == 3
    assert rules.weights[Reason.VELOCITY_CARD] == 45
    assert rules.weights[Reason.VELOCITY_DEVICE] == 30
    assessment = RulesFraudScorer(rules).assess(signals(card_payments_last_hour=3))
    assert (assessment.score, assessment.decision) == (45, "review")
    assert FraudRules.from_json("{}") == FraudRules()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('{"review_threshold": 0}', "review_threshold"),
        ('{"review_threshold": -5}', "review_threshold"),
        ('{"review_threshold": 80}', "review_threshold"),  # equal to block
        ('{"review_threshold": 90}', "review_threshold"),
        ('{"block_threshold": 101}', "block_threshold"),
        ('{"block_threshold": 50}', "review_threshold"),  # not above review
        ('{"review_threshold": "50"}', "review_threshold"),
        ('{"review_threshold": 50.5}', "review_threshold"),
        ('{"block_threshold": true}', "block_threshold"),
        ('{"amount_limit_eur_minor": -1}', "amount_limit_eur_minor"),
        ('{"amount_unusual_eur_minor": 600000}', "amount_unusual_eur_minor"),
        ('{"card_velocity_per_hour": null}', "card_velocity_per_hour"),
        ('{"threshold": 50}', "threshold"),
        ('{"weights": {"velocity_cards": 10}}', "weights.velocity_cards"),
        ('{"weights": {"velocity_card": 101}}', "weights.velocity_card"),
        ('{"weights": {"velocity_card": -1}}', "weights.velocity_card"),
        ('{"weights": {"velocity_card": "10"}}', "weights.velocity_card"),
        ('{"weights": {"amount_unusual": 70}}', "weights.amount_above_limit"),
        ('{"weights": {"country_mismatch_card_ip": 0}}', "weights.country_mismatch_card_ip"),
        ('{"weights": [10]}', "weights"),
        ("[]", "JSON object"),
    ],
)
def test_from_json_rejects_bad_settings_naming_the_key(text: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        FraudRules.from_json(text)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="counts"):
        signals(card_payments_last_hour=-1)


countries = st.one_of(st.none(), st.sampled_from(["DE", "FR", "US"]))
amounts = st.one_of(st.none(), st.integers(min_value=0, max_value=10**7))
random_signals = st.builds(
    FraudSignals,
    amount_minor=st.integers(min_value=0, max_value=10**7),
    currency=st.sampled_from(["EUR", "USD", "JPY"]),
    amount_eur_minor=amounts,
    card_country=countries,
    ip_country=countries,
    customer_country=countries,
    card_payments_last_hour=st.integers(min_value=0, max_value=20),
    device_payments_last_hour=st.integers(min_value=0, max_value=20),
)


def _coherent(w: dict[Reason, int]) -> bool:
    # What FraudRules accepts: a rule that replaces another weighs at least as much.
    weight = {**DEFAULT_WEIGHTS, **w}
    intra = weight[Reason.COUNTRY_MISMATCH_INTRA_EEA_UK]
    return weight[Reason.AMOUNT_ABOVE_LIMIT] >= weight[Reason.AMOUNT_UNUSUAL] and all(
        weight[pair] >= intra for pair in CROSS_BORDER_REASONS
    )


weights_maps = st.dictionaries(st.sampled_from(list(Reason)), st.integers(0, 100)).filter(_coherent)


@given(base=random_signals, weights=weights_maps)
def test_score_is_within_bounds_and_matches_the_decision(
    base: FraudSignals, weights: dict[Reason, int]
) -> None:
    rules = FraudRules(weights=weights)
    assessment = RulesFraudScorer(rules).assess(base)
    assert 0 <= assessment.score <= 100
    assert len(set(assessment.reasons)) == len(assessment.reasons)
    expected = (
        "block"
        if assessment.score >= rules.block_threshold
        else "review"
        if assessment.score >= rules.review_threshold
        else "allow"
    )
    assert assessment.decision == expected


# Each change makes one more signal look suspicious; none may lower the score.
def _larger_amount(s: FraudSignals) -> FraudSignals:
    eur = None if s.amount_eur_minor is None else s.amount_eur_minor + 200_000
    return dataclasses.replace(s, amount_minor=s.amount_minor + 200_000, amount_eur_minor=eur)


escalations = st.sampled_from(
    [
        _larger_amount,
        lambda s: dataclasses.replace(s, card_payments_last_hour=s.card_payments_last_hour + 3),
        lambda s: dataclasses.replace(s, device_payments_last_hour=s.device_payments_last_hour + 5),
        lambda s: dataclasses.replace(s, card_country=s.card_country or "GB"),
        lambda s: dataclasses.replace(s, ip_country=s.ip_country or "BR"),
        lambda s: dataclasses.replace(s, customer_country=s.customer_country or "JP"),
    ]
)


@given(base=random_signals, weights=weights_maps, escalate=escalations)
def test_adding_a_suspicious_signal_never_lowers_the_score(
    base: FraudSignals, weights: dict[Reason, int], escalate: Any
) -> None:
    scorer = RulesFraudScorer(FraudRules(weights=weights))
    before = scorer.assess(base)
    after = scorer.assess(escalate(base))
    assert after.score >= before.score
