"""The trained fraud model, scored in pure Python from a JSON artefact, with reason codes.

The artefact (``fraud_model.json`` beside this file, rebuilt by ``make train-fraud``) is a
logistic regression over the features of ``fraud_features``: for each feature its transform
(``log1p`` for counts and amounts, ``identity`` for ratios and flags), the training mean and
scale it is standardised with, and its weight. Scoring is one pass over about forty numbers,
so the Lambda needs no numpy or scikit-learn (docs/decisions/0007-fraud-model-artefact.md).

A feature's contribution is ``weight * (transform(x) - mean) / scale``: how far this payment
moves the log-odds away from an average payment through that feature. The reasons are the
features with the largest positive contributions, largest first, so a score always says which
signals raised it.

The model's decision uses the artefact's thresholds, chosen on the training split at a fixed
false-positive rate (``review`` at 1 %, ``block`` at 0.1 %).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .fraud import FraudDecision

ARTEFACT_PATH = Path(__file__).with_name("fraud_model.json")
FORMAT = "logistic-v1"
TRANSFORMS = frozenset({"identity", "log1p"})
MAX_REASONS = 3


@dataclass(frozen=True, slots=True)
class ModelAssessment:
    probability: float
    score: int  # 0 to 100, as the rules scorer's
    decision: FraudDecision
    reasons: tuple[str, ...]  # feature names, the largest contribution first
    model: str


@dataclass(frozen=True, slots=True)
class FeatureWeight:
    name: str
    transform: str
    mean: float
    scale: float
    weight: float


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number")
    return float(value)


class FraudModel:
    """A logistic-regression artefact, checked on load and scored without allocation-heavy
    code (a tuple of plain floats per feature)."""

    def __init__(
        self,
        features: tuple[FeatureWeight, ...],
        intercept: float,
        review_threshold: float,
        block_threshold: float,
        model_id: str,
    ) -> None:
        if not features:
            raise ValueError("a fraud model needs at least one feature")
        if not 0 < review_threshold <= block_threshold < 1:
            raise ValueError("thresholds must satisfy 0 < review <= block < 1")
        self.features = features
        self.intercept = intercept
        self.review_threshold = review_threshold
        self.block_threshold = block_threshold
        self.model_id = model_id
        self.feature_names = tuple(f.name for f in features)
        # (name, log?, mean, weight / scale): the hot loop reads only these.
        self._terms = tuple(
            (f.name, f.transform == "log1p", f.mean, f.weight / f.scale) for f in features
        )

    @classmethod
    def from_json(cls, text: str) -> FraudModel:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"a fraud model artefact must be a JSON object of format {FORMAT}")
        features = []
        for index, spec in enumerate(data.get("features") or []):
            where = f"features[{index}]"
            name = spec.get("name") if isinstance(spec, dict) else None
            if not isinstance(name, str) or not name:
                raise ValueError(f"{where}.name must be a non-empty string")
            if spec.get("transform") not in TRANSFORMS:
                raise ValueError(f"{where}.transform must be one of {sorted(TRANSFORMS)}")
            scale = _number(spec.get("scale"), f"{where}.scale")
            if scale <= 0:
                raise ValueError(f"{where}.scale must be positive")
            features.append(
                FeatureWeight(
                    name=name,
                    transform=spec["transform"],
                    mean=_number(spec.get("mean"), f"{where}.mean"),
                    scale=scale,
                    weight=_number(spec.get("weight"), f"{where}.weight"),
                )
            )
        if len({f.name for f in features}) != len(features):
            raise ValueError("feature names must be unique")
        thresholds = data.get("thresholds") or {}
        # The id names the exact weights, so a score can be traced to the artefact behind it.
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        return cls(
            features=tuple(features),
            intercept=_number(data.get("intercept"), "intercept"),
            review_threshold=_number(thresholds.get("review"), "thresholds.review"),
            block_threshold=_number(thresholds.get("block"), "thresholds.block"),
            model_id=f"{data.get('name', 'fraud-model')}-{digest}",
        )

    @classmethod
    def load(cls, path: Path = ARTEFACT_PATH) -> FraudModel:
        return cls.from_json(path.read_text(encoding="utf-8"))

    def contributions(self, features: Mapping[str, float]) -> dict[str, float]:
        """Each feature's contribution to the log-odds (0 for a feature at the mean)."""
        out = {}
        for name, is_log, mean, weight in self._terms:
            value = features[name]
            if is_log:
                value = math.log1p(value) if value > 0 else 0.0
            out[name] = weight * (value - mean)
        return out

    def assess(self, features: Mapping[str, float]) -> ModelAssessment:
        """Score one payment's features (``fraud_features.features``). A missing feature is
        an error, not a zero: a silent zero would hide training/serving skew."""
        logit = self.intercept
        top: list[tuple[float, str]] = []
        for name, is_log, mean, weight in self._terms:
            value = features[name]
            if is_log:
                value = math.log1p(value) if value > 0 else 0.0
            contribution = weight * (value - mean)
            logit += contribution
            if contribution > 0:
                top.append((contribution, name))
        probability = 1.0 / (1.0 + math.exp(-logit)) if logit > -700 else 0.0
        if probability >= self.block_threshold:
            decision = FraudDecision.BLOCK
        elif probability >= self.review_threshold:
            decision = FraudDecision.REVIEW
        else:
            decision = FraudDecision.ALLOW
        top.sort(key=lambda pair: (-pair[0], pair[1]))
        return ModelAssessment(
            probability=probability,
            score=round(100 * probability),
            decision=decision,
            reasons=tuple(name for _, name in top[:MAX_REASONS]),
            model=self.model_id,
        )


_DEFAULT: FraudModel | None = None


def default_model() -> FraudModel:
    """The packaged artefact, loaded once per container."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = FraudModel.load()
    return _DEFAULT
