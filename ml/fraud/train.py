"""Train the fraud model on the generator's events, export it as the JSON artefact the Lambda
scores, and measure it beside the rules scorer on a time-ordered held-out split.

The split follows time, as the model will meet it: the first ``warmup_days`` only fill the
feature windows; attempts up to ``test_start_day`` are the training set, labelled as a trainer
running on that day would know them (fraud labels that had not arrived yet count as genuine);
everything after is the test set, with its true labels. Both models are measured on the test
set only: the logistic regression through the exported artefact and the pure-Python scorer
the Lambda runs (not scikit-learn's ``predict_proba``), the rules through ``RulesFraudScorer``
with its default settings and the same features.

Reproducible: the generator is seeded, the solver (lbfgs) is deterministic on one thread, and
the artefact's numbers are rounded to 9 significant digits so that a last-bit difference in a
BLAS reduction cannot change its bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from functions.domain.fraud import FraudRules, FraudSignals, RulesFraudScorer
from functions.domain.fraud_features import FEATURE_NAMES, FraudEvent, replay
from functions.domain.fraud_model import FORMAT, FraudModel
from ml.fraud.generator import DAY, START, TYPOLOGIES, GeneratorConfig, LabelledEvent, generate
from ml.fraud.metrics import Quality, quality, threshold_at_fpr

# Ratios and flags are already on a small scale; counts, amounts and distinct counts are
# heavy-tailed, and their logarithm is what separates a burst from a habit.
IDENTITY_FEATURES = frozenset(
    {
        "card_ip_country_mismatch",
        "card_first_seen_7d",
        "card_new_device_7d",
        "card_new_country_7d",
        *(name for name in FEATURE_NAMES if "_decline_ratio_" in name),
    }
)
SIGNIFICANT_DIGITS = 9
REVIEW_FPR = 0.01
BLOCK_FPR = 0.001


def transform_of(name: str) -> str:
    return "identity" if name in IDENTITY_FEATURES else "log1p"


@dataclass(frozen=True, slots=True)
class SplitConfig:
    warmup_days: int = 7
    test_start_day: int = 24
    regularisation: float = 0.5  # scikit-learn's C: smaller is stronger


@dataclass(frozen=True, slots=True)
class Rows:
    events: list[LabelledEvent]
    features: list[dict[str, float]]

    def matrix(self, names: Sequence[str] = FEATURE_NAMES) -> NDArray[np.float64]:
        logs = [transform_of(n) == "log1p" for n in names]
        x = np.array([[row[n] for n in names] for row in self.features], dtype=np.float64)
        x[:, logs] = np.log1p(np.maximum(x[:, logs], 0.0))
        return x

    def truth(self) -> NDArray[np.int_]:
        return np.array([int(e.fraud) for e in self.events])

    def known(self, as_of: int) -> NDArray[np.int_]:
        return np.array([int(e.known_fraud(as_of)) for e in self.events])


@dataclass(frozen=True, slots=True)
class Dataset:
    train: Rows
    test: Rows
    label_as_of: int


def build_dataset(events: Sequence[LabelledEvent], split: SplitConfig) -> Dataset:
    """Replay every attempt through the feature code (as the stream would have seen them) and
    cut the rows by time."""
    by_id = {item.event.event_id: item for item in events}
    warmup = START + split.warmup_days * DAY
    test_start = START + split.test_start_day * DAY
    train: tuple[list[LabelledEvent], list[dict[str, float]]] = ([], [])
    test: tuple[list[LabelledEvent], list[dict[str, float]]] = ([], [])
    for event, row in replay(item.event for item in events):
        if event.occurred_at < warmup:
            continue
        side = train if event.occurred_at < test_start else test
        side[0].append(by_id[event.event_id])
        side[1].append(row)
    return Dataset(Rows(*train), Rows(*test), label_as_of=test_start)


def _round(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def fit(dataset: Dataset, split: SplitConfig, seed: int) -> dict[str, Any]:
    """The artefact (a JSON-ready dict) of a logistic regression on the training rows."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    x = dataset.train.matrix()
    y = dataset.train.known(dataset.label_as_of)
    if y.sum() == 0 or y.sum() == len(y):
        raise ValueError("the training rows need both known fraud and genuine attempts")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0  # a feature constant in training carries no weight anyway
    model = LogisticRegression(C=split.regularisation, max_iter=5_000, random_state=seed)
    with threadpool_limits(1):  # one core (the machine is shared), and one summation order
        model.fit((x - mean) / scale, y)
    features = [
        {
            "name": name,
            "transform": transform_of(name),
            "mean": _round(mean[i]),
            "scale": _round(scale[i]),
            "weight": _round(model.coef_[0][i]),
        }
        for i, name in enumerate(FEATURE_NAMES)
    ]
    artefact: dict[str, Any] = {
        "format": FORMAT,
        "name": "fraud-lr",
        "features": features,
        "intercept": _round(model.intercept_[0]),
        "thresholds": {"review": 0.5, "block": 0.5},
    }
    # The thresholds come from the exported numbers, scored as the Lambda scores them.
    scorer = FraudModel.from_json(dump(artefact))
    genuine = [
        scorer.assess(row).probability
        for row, label in zip(dataset.train.features, y, strict=True)
        if not label
    ]
    review = threshold_at_fpr(genuine, REVIEW_FPR)
    block = max(review, threshold_at_fpr(genuine, BLOCK_FPR))
    artefact["thresholds"] = {"review": _round(review), "block": _round(block)}
    return artefact


def dump(artefact: Mapping[str, Any]) -> str:
    return json.dumps(artefact, indent=1, sort_keys=True) + "\n"


def rules_signals(event: FraudEvent, row: Mapping[str, float]) -> FraudSignals:
    """What the rules scorer sees of the same attempt: amounts in EUR, the card's and the
    device's attempts in the last hour from the same counters."""
    return FraudSignals(
        amount_minor=event.amount_eur_minor,
        currency="EUR",
        amount_eur_minor=event.amount_eur_minor,
        card_country=event.card_country,
        ip_country=event.ip_country,
        customer_country=event.customer_country,
        card_payments_last_hour=int(row["card_count_1h"]),
        device_payments_last_hour=int(row["device_count_1h"]),
    )


@dataclass(frozen=True, slots=True)
class Evaluation:
    model: Quality
    rules: Quality
    rows_train: int
    rows_test: int
    frauds_train_total: int
    frauds_train_known: int
    frauds_test: int
    test_fpr_at_review: float
    test_fpr_at_block: float
    recall_by_typology: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(dataset: Dataset, model: FraudModel) -> Evaluation:
    truth = dataset.test.truth()
    assessments = [model.assess(row) for row in dataset.test.features]
    scores = np.array([a.probability for a in assessments])
    rules = RulesFraudScorer(FraudRules())
    rule_scores = np.array(
        [
            rules.assess(rules_signals(item.event, row)).score
            for item, row in zip(dataset.test.events, dataset.test.features, strict=True)
        ],
        dtype=np.float64,
    )
    genuine = truth == 0
    by_typology = {}
    for typology in TYPOLOGIES:
        mask = np.array([item.typology == typology for item in dataset.test.events])
        if mask.any():
            flagged = scores[mask] >= model.review_threshold
            by_typology[typology] = round(float(flagged.mean()), 4)
    train_truth = dataset.train.truth()
    return Evaluation(
        model=quality(truth, scores),
        rules=quality(truth, rule_scores),
        rows_train=len(dataset.train.events),
        rows_test=len(truth),
        frauds_train_total=int(train_truth.sum()),
        frauds_train_known=int(dataset.train.known(dataset.label_as_of).sum()),
        frauds_test=int(truth.sum()),
        test_fpr_at_review=round(float((scores[genuine] >= model.review_threshold).mean()), 5),
        test_fpr_at_block=round(float((scores[genuine] >= model.block_threshold).mean()), 5),
        recall_by_typology=by_typology,
    )


@dataclass(frozen=True, slots=True)
class Result:
    artefact: str
    evaluation: Evaluation


def train(config: GeneratorConfig | None = None, split: SplitConfig | None = None) -> Result:
    config = config or GeneratorConfig()
    split = split or SplitConfig()
    dataset = build_dataset(generate(config), split)
    text = dump(fit(dataset, split, config.seed))
    return Result(text, evaluate(dataset, FraudModel.from_json(text)))
