"""The pure-Python scorer of the exported artefact: the numbers it computes, its reasons, the
artefacts it refuses, and that the packaged artefact matches the feature code."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from typing import Any

import pytest

from functions.domain.fraud import FraudDecision
from functions.domain.fraud_features import FEATURE_NAMES
from functions.domain.fraud_model import ARTEFACT_PATH, FraudModel, default_model


def _artefact(**overrides: Any) -> dict[str, Any]:
    artefact: dict[str, Any] = {
        "format": "logistic-v1",
        "name": "test-lr",
        "features": [
            {"name": "velocity", "transform": "log1p", "mean": 0.5, "scale": 2.0, "weight": 3.0},
            {"name": "mismatch", "transform": "identity", "mean": 0.1, "scale": 0.5, "weight": 1.0},
            {"name": "amount", "transform": "log1p", "mean": 3.0, "scale": 1.0, "weight": -0.5},
        ],
        "intercept": -4.0,
        "thresholds": {"review": 0.2, "block": 0.8},
    }
    artefact.update(overrides)
    return artefact


def _model(**overrides: Any) -> FraudModel:
    return FraudModel.from_json(json.dumps(_artefact(**overrides)))


def test_the_probability_is_the_logistic_of_the_standardised_features() -> None:
    row = {"velocity": 9.0, "mismatch": 1.0, "amount": 99.0}
    logit = (
        -4.0
        + 3.0 * (math.log1p(9.0) - 0.5) / 2.0
        + 1.0 * (1.0 - 0.1) / 0.5
        - 0.5 * (math.log1p(99.0) - 3.0) / 1.0
    )
    assessed = _model().assess(row)
    assert assessed.probability == pytest.approx(1 / (1 + math.exp(-logit)))
    assert assessed.score == round(100 * assessed.probability)


def test_reasons_are_the_features_that_raised_the_score_largest_first() -> None:
    assessed = _model().assess({"velocity": 9.0, "mismatch": 1.0, "amount": 99.0})
    # velocity +2.70, mismatch +1.80, amount -0.80: the amount lowered the score.
    assert assessed.reasons == ("velocity", "mismatch")
    quiet = _model().assess({"velocity": 0.0, "mismatch": 0.0, "amount": 0.0})
    assert "velocity" not in quiet.reasons and "mismatch" not in quiet.reasons


def test_decisions_follow_the_artefact_thresholds() -> None:
    model = _model()
    low = model.assess({"velocity": 0.0, "mismatch": 0.0, "amount": 20.0})
    mid = model.assess({"velocity": 20.0, "mismatch": 0.0, "amount": 20.0})
    high = model.assess({"velocity": 500.0, "mismatch": 1.0, "amount": 20.0})
    assert (low.decision, mid.decision, high.decision) == (
        FraudDecision.ALLOW,
        FraudDecision.REVIEW,
        FraudDecision.BLOCK,
    )
    assert low.probability < 0.2 <= mid.probability < 0.8 <= high.probability


def test_a_missing_feature_is_an_error_not_a_zero() -> None:
    with pytest.raises(KeyError, match="amount"):
        _model().assess({"velocity": 1.0, "mismatch": 0.0})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"format": "trees-v9"}, "format"),
        ({"features": []}, "at least one feature"),
        ({"intercept": "x"}, "intercept"),
        ({"thresholds": {"review": 0.9, "block": 0.2}}, "thresholds"),
        (
            {"features": [{"name": "a", "transform": "sqrt", "mean": 0, "scale": 1, "weight": 1}]},
            "transform",
        ),
        (
            {
                "features": [
                    {"name": "a", "transform": "identity", "mean": 0, "scale": 0, "weight": 1}
                ]
            },
            "scale",
        ),
        (
            {
                "features": [
                    {
                        "name": "a",
                        "transform": "identity",
                        "mean": 0,
                        "scale": 1,
                        "weight": float("nan"),
                    }
                ]
            },
            "weight",
        ),
    ],
)
def test_a_bad_artefact_is_refused_naming_what_is_wrong(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _model(**overrides)


def test_the_model_id_names_the_exact_artefact() -> None:
    assert _model().model_id != _model(intercept=-3.0).model_id
    assert _model().model_id.startswith("test-lr-")


def test_the_packaged_artefact_scores_exactly_the_features_the_feature_code_computes() -> None:
    model = default_model()
    assert model.feature_names == FEATURE_NAMES
    assert ARTEFACT_PATH.parent.name == "domain"  # inside functions/: the Lambda zip carries it


def test_the_scorer_imports_no_numerical_library() -> None:
    """The Lambda zip has no numpy or scikit-learn: scoring must not need them."""
    code = (
        "import sys; from functions.domain.fraud_model import default_model; default_model(); "
        "print(sorted(m for m in ('numpy', 'sklearn', 'scipy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
