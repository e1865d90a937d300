"""The credit scorecard (pure domain): integer points per attribute, summed to a score.

The artefact (``scorecard.json``, written by ``make train-credit`` from ml/credit.py) lists,
per feature, its bins and each bin's points; the score is the sum of one bin's points per
feature and the applicant passes at ``cutoff`` or above. Points come from a logistic regression
on weight-of-evidence bins, so each feature's points are its exact share of the score: the
principal reasons of a low score are the features whose points fell furthest below the most
that feature can give, and what would change it is that best bin (docs/models/credit.md).

The scorer reads a ``ScoringProfile`` and nothing else; the artefact may name only its fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from functions.domain.credit.profile import SCORING_FIELDS, ScoringProfile

ARTEFACT_PATH = Path(__file__).with_name("scorecard.json")
# Principal reasons given for a low score: the four with the largest shortfall, as adverse
# action notices conventionally give (and as many as a consumer can act on).
MAX_REASONS = 4


class ScorecardError(ValueError):
    """An artefact that does not describe a usable scorecard."""


@dataclass(frozen=True, slots=True)
class Bin:
    """Categorical: the values it holds. Numeric: ``[lower, upper)`` (None is unbounded)."""

    points: int
    values: frozenset[str] = frozenset()
    lower: float | None = None
    upper: float | None = None

    def holds(self, value: str | float) -> bool:
        if self.values:
            return value in self.values
        assert isinstance(value, int | float)
        return (self.lower is None or value >= self.lower) and (
            self.upper is None or value < self.upper
        )

    def describe(self) -> str:
        if self.values:
            return " or ".join(sorted(self.values))
        if self.lower is None:
            return f"below {self.upper:g}"
        if self.upper is None:
            return f"{self.lower:g} or more"
        return f"{self.lower:g} to below {self.upper:g}"


@dataclass(frozen=True, slots=True)
class Feature:
    name: str  # a ScoringProfile field
    bins: tuple[Bin, ...]
    # Numeric inputs are scaled into the training data's units (EUR cents to Deutsche Mark).
    scale: float = 1.0

    @property
    def best(self) -> Bin:
        return max(self.bins, key=lambda b: b.points)

    def bin_of(self, profile: ScoringProfile) -> Bin:
        raw = getattr(profile, self.name)
        value: str | float = str(raw) if isinstance(raw, str) else raw * self.scale
        for candidate in self.bins:
            if candidate.holds(value):
                return candidate
        raise ScorecardError(f"{self.name}={raw!r} falls in no bin")


@dataclass(frozen=True, slots=True)
class ScoreReason:
    """A feature whose points fell short of its best bin, ordered by ``shortfall``."""

    feature: str
    value: str
    points: int
    shortfall: int
    best: str  # the attribute that would give the most points


@dataclass(frozen=True, slots=True)
class Scored:
    score: int
    cutoff: int
    points: Mapping[str, int]
    reasons: tuple[ScoreReason, ...]

    @property
    def passes(self) -> bool:
        return self.score >= self.cutoff


def _bin(data: Mapping[str, Any]) -> Bin:
    points = data["points"]
    if isinstance(points, bool) or not isinstance(points, int):
        raise ScorecardError("points must be integers")
    if "values" in data:
        return Bin(points, values=frozenset(str(v) for v in data["values"]))
    return Bin(points, lower=data.get("lower"), upper=data.get("upper"))


@dataclass(frozen=True, slots=True)
class Scorecard:
    version: str
    cutoff: int
    features: tuple[Feature, ...]

    def __post_init__(self) -> None:
        for feature in self.features:
            if feature.name not in SCORING_FIELDS:
                raise ScorecardError(f"{feature.name!r} is not a scoring profile field")
            if not feature.bins:
                raise ScorecardError(f"{feature.name!r} has no bins")

    @classmethod
    def from_json(cls, text: str) -> Scorecard:
        data = json.loads(text)
        features = tuple(
            Feature(f["name"], tuple(_bin(b) for b in f["bins"]), float(f.get("scale", 1.0)))
            for f in data["features"]
        )
        return cls(str(data["version"]), int(data["cutoff"]), features)

    @classmethod
    def load(cls, path: Path = ARTEFACT_PATH) -> Scorecard:
        return cls.from_json(path.read_text())

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @property
    def max_score(self) -> int:
        return sum(f.best.points for f in self.features)

    def score(self, profile: ScoringProfile) -> Scored:
        points: dict[str, int] = {}
        shortfalls: list[ScoreReason] = []
        for feature in self.features:
            chosen = feature.bin_of(profile)
            points[feature.name] = chosen.points
            gap = feature.best.points - chosen.points
            if gap > 0:
                raw = getattr(profile, feature.name)
                shortfalls.append(
                    ScoreReason(feature.name, str(raw), chosen.points, gap, feature.best.describe())
                )
        shortfalls.sort(key=lambda r: (-r.shortfall, r.feature))
        return Scored(sum(points.values()), self.cutoff, points, tuple(shortfalls[:MAX_REASONS]))


def reasons_needed(reasons: Sequence[ScoreReason], missing: int) -> tuple[ScoreReason, ...]:
    """The fewest leading reasons whose shortfalls together make up ``missing`` points: the
    changes that would, each to its best attribute, lift the score to the cutoff."""
    chosen: list[ScoreReason] = []
    total = 0
    for reason in reasons:
        if total >= missing:
            break
        chosen.append(reason)
        total += reason.shortfall
    return tuple(chosen) if total >= missing else ()
