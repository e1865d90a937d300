"""The trained scorecard artefact as the domain scores it: exact reasons and points."""

from __future__ import annotations

import itertools
import json

import pytest

from functions.domain.credit import profile as p
from functions.domain.credit.scorecard import (
    ARTEFACT_PATH,
    MAX_REASONS,
    Scorecard,
    ScorecardError,
    reasons_needed,
)

SCORECARD = Scorecard.load()


def _profile(**changes: object) -> p.ScoringProfile:
    values: dict[str, object] = {
        "checking_account": "low",
        "credit_history": "paid_duly",
        "purpose": "electronics",
        "savings": "under_100",
        "employment": "from_1y",
        "other_debtors": "none",
        "property": "car_or_other",
        "other_instalment_plans": "none",
        "housing": "rent",
        "duration_months": 3,
        "amount_eur_minor": 45_000,
    }
    values.update(changes)
    return p.ScoringProfile(**values)  # type: ignore[arg-type]


def test_the_artefact_names_only_scoring_fields() -> None:
    assert set(SCORECARD.feature_names) <= set(p.SCORING_FIELDS)
    assert SCORECARD.version.startswith("credit-sc-")


def test_the_score_is_the_sum_of_one_bin_per_feature() -> None:
    scored = SCORECARD.score(_profile())
    assert scored.score == sum(scored.points.values())
    assert set(scored.points) == set(SCORECARD.feature_names)


def test_the_best_answers_give_the_maximum_and_no_reasons() -> None:
    best: dict[str, object] = {}
    for feature in SCORECARD.features:
        chosen = feature.best
        if chosen.values:
            best[feature.name] = sorted(chosen.values)[0]
        else:
            lower = chosen.lower if chosen.lower is not None else 0.0
            best[feature.name] = round(lower / feature.scale) + 1
    scored = SCORECARD.score(_profile(**best))
    assert scored.score == SCORECARD.max_score
    assert scored.reasons == ()
    assert scored.passes


def test_reasons_are_every_shortfall_largest_first_and_at_most_four() -> None:
    scored = SCORECARD.score(
        _profile(checking_account="negative", credit_history="past_delay", savings="under_100")
    )
    shortfalls = [r.shortfall for r in scored.reasons]
    assert shortfalls == sorted(shortfalls, reverse=True)
    assert 0 < len(scored.reasons) <= MAX_REASONS
    for reason in scored.reasons:
        feature = next(f for f in SCORECARD.features if f.name == reason.feature)
        assert reason.shortfall == feature.best.points - scored.points[reason.feature]


def test_every_category_of_every_categorical_feature_has_a_bin() -> None:
    enums = {name: kind for name, kind in p._ENUM_FIELDS.items()}
    for feature in SCORECARD.features:
        if feature.name in enums:
            held = set(itertools.chain.from_iterable(b.values for b in feature.bins))
            assert held == {v.value for v in enums[feature.name]}, feature.name


def test_numeric_bins_cover_every_amount_without_gaps() -> None:
    for amount in (0, 1, 10**6, 10**12):
        SCORECARD.score(_profile(amount_eur_minor=amount, duration_months=amount % 100))


def test_reasons_needed_takes_the_fewest_leading_reasons() -> None:
    scored = SCORECARD.score(_profile(checking_account="negative", savings="under_100"))
    first = scored.reasons[0].shortfall
    assert reasons_needed(scored.reasons, first) == scored.reasons[:1]
    assert reasons_needed(scored.reasons, 10**6) == ()


def test_an_artefact_naming_a_field_outside_the_profile_is_refused() -> None:
    data = json.loads(ARTEFACT_PATH.read_text())
    data["features"][0]["name"] = "age_in_years"
    with pytest.raises(ScorecardError, match="not a scoring profile field"):
        Scorecard.from_json(json.dumps(data))
