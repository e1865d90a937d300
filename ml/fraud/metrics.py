"""Quality figures for a fraud score on labelled attempts, the same for every model.

PR-AUC is average precision (scikit-learn's ``average_precision_score``: the step-wise area,
which does not interpolate optimistically between points). Recall at a false-positive rate is
the largest recall any threshold reaches while flagging at most that share of genuine
attempts; a score with ties (the rules' sums) can only cut between distinct values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class Quality:
    pr_auc: float
    recall_at_1pct_fpr: float
    recall_at_01pct_fpr: float
    roc_auc: float


def recall_at_fpr(truth: NDArray[np.int_], scores: NDArray[np.float64], fpr: float) -> float:
    from sklearn.metrics import roc_curve

    fprs, tprs, _ = roc_curve(truth, scores)
    return float(tprs[fprs <= fpr].max())


def quality(truth: NDArray[np.int_], scores: NDArray[np.float64]) -> Quality:
    from sklearn.metrics import average_precision_score, roc_auc_score

    if truth.sum() == 0 or truth.sum() == len(truth):
        raise ValueError("quality needs both fraud and genuine attempts")
    return Quality(
        pr_auc=round(float(average_precision_score(truth, scores)), 4),
        recall_at_1pct_fpr=round(recall_at_fpr(truth, scores, 0.01), 4),
        recall_at_01pct_fpr=round(recall_at_fpr(truth, scores, 0.001), 4),
        roc_auc=round(float(roc_auc_score(truth, scores)), 4),
    )


def threshold_at_fpr(genuine_scores: Sequence[float], fpr: float) -> float:
    """The lowest threshold (``score >= threshold`` flags) that flags at most ``fpr`` of
    ``genuine_scores``."""
    ordered = np.sort(np.asarray(genuine_scores, dtype=np.float64))[::-1]
    allowed = int(np.floor(fpr * len(ordered)))
    if allowed >= len(ordered):
        return float(ordered[-1])
    # Flag strictly above the (allowed+1)-th highest genuine score.
    return float(np.nextafter(ordered[allowed], np.inf))
