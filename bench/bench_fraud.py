"""The fraud model: in-process scoring latency with the features in hand, the scorer's cold
import, the feature code's cost per payment, and the model's quality beside the rules scorer.

* ``fraud_score_us_p50`` / ``_p99``: ``FraudModel.assess`` on real feature rows (the held-out
  rows of a seeded synthetic sample), the packaged artefact, after a warm-up (target p99 at
  most 1,000 µs).
* ``fraud_scorer_import_ms``: a fresh interpreter importing the scorer and loading the
  artefact, the median of 5 (target at most 300 ms); the interpreter's own start-up is not
  counted.
* ``fraud_features_us_p99``: ``features()`` over the five subjects' buckets, as the inline
  scorer would call it with the items read.
* Quality: the full ``make train-fraud`` pipeline (seeded, so the figures are those of the
  model card), and the ULB data set (downloaded into ``.cache/`` on first use).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from functions.domain.fraud_features import InMemoryFeatureCounters, features_from
from functions.domain.fraud_model import ARTEFACT_PATH, default_model
from ml.fraud import train as training
from ml.fraud import ulb
from ml.fraud.generator import GeneratorConfig, generate

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE = GeneratorConfig(seed=3, days=10, cards=1_500)
TIMED = 20_000
WARM_UP = 2_000
IMPORT_RUNS = 5
IMPORT_PROBE = (
    "import time; t = time.perf_counter(); "
    "from functions.domain.fraud_model import default_model; default_model(); "
    "print((time.perf_counter() - t) * 1000)"
)


def _percentile(samples: list[int], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000.0


def _feature_rows() -> tuple[list[dict[str, float]], list[int]]:
    """Feature rows of a replayed sample, and the ns each ``features`` call took."""
    counters = InMemoryFeatureCounters()
    rows, timings = [], []
    for item in generate(SAMPLE):
        start = time.perf_counter_ns()
        row = features_from(item.event, counters)
        timings.append(time.perf_counter_ns() - start)
        rows.append(row)
        counters.apply(item.event)
    return rows, timings


def _import_ms() -> float:
    runs = []
    for _ in range(IMPORT_RUNS):
        done = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(float(done.stdout.strip()))
    return statistics.median(runs)


def run() -> dict[str, dict[str, float | str]]:
    model = default_model()
    rows, feature_ns = _feature_rows()
    for i in range(WARM_UP):
        model.assess(rows[i % len(rows)])
    score_ns = []
    for i in range(TIMED):
        row = rows[(i * 7919) % len(rows)]
        start = time.perf_counter_ns()
        model.assess(row)
        score_ns.append(time.perf_counter_ns() - start)

    synthetic = training.train().evaluation
    real = ulb.evaluate(ulb.load(), with_trees=False)
    return {
        "fraud_score_us_p50": {"value": round(_percentile(score_ns, 0.50), 1), "unit": "us"},
        "fraud_score_us_p99": {"value": round(_percentile(score_ns, 0.99), 1), "unit": "us"},
        "fraud_features_us_p99": {"value": round(_percentile(feature_ns, 0.99), 1), "unit": "us"},
        "fraud_scorer_import_ms": {"value": round(_import_ms(), 1), "unit": "ms"},
        "fraud_model_artefact_bytes": {"value": ARTEFACT_PATH.stat().st_size, "unit": "bytes"},
        "fraud_model_pr_auc": {"value": synthetic.model.pr_auc, "unit": "ratio"},
        "fraud_model_recall_at_1pct_fpr": {
            "value": synthetic.model.recall_at_1pct_fpr,
            "unit": "ratio",
        },
        "fraud_model_recall_at_01pct_fpr": {
            "value": synthetic.model.recall_at_01pct_fpr,
            "unit": "ratio",
        },
        "fraud_rules_pr_auc": {"value": synthetic.rules.pr_auc, "unit": "ratio"},
        "fraud_rules_recall_at_1pct_fpr": {
            "value": synthetic.rules.recall_at_1pct_fpr,
            "unit": "ratio",
        },
        "fraud_ulb_pr_auc": {"value": real.logistic.pr_auc, "unit": "ratio"},
    }
