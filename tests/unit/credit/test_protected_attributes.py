"""Protected attributes cannot reach the credit score (EU CCD 2023/2225 Art. 6 and 18):

* the trained artefact has no protected field or stand-in as a feature, and the scorer's only
  input type has no field that could carry one;
* retraining on the data set with every protected field scrambled gives the same artefact,
  byte for byte: the trainer never read them;
* an applicant's declared age (read by the legal-capacity rule only) changes nothing in the
  score, the points or the outcome once they are an adult.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

from functions.domain.credit import profile as p
from functions.domain.credit.policy import CreditDecider, Exposure
from functions.domain.credit.scorecard import ARTEFACT_PATH, Scorecard
from ml import credit
from tests.unit.credit.conftest import POLICY, TODAY, application

PROTECTED_WORDS = (
    "sex",
    "gender",
    "marital",
    "personal_status",
    "foreign",
    "national",
    "age_",
    "job",
    "liable",
)


def test_no_protected_feature_in_the_artefact_or_the_profile() -> None:
    names = set(Scorecard.load().feature_names) | set(p.SCORING_FIELDS)
    for name in names:
        assert not any(word in name for word in PROTECTED_WORDS), name
    assert not p.PROTECTED_SOURCE_FIELDS & {source for source, _ in credit.CATEGORIES.values()}
    assert not p.PROTECTED_SOURCE_FIELDS & {source for source, _ in credit.NUMERIC.values()}


def test_scrambling_the_protected_fields_leaves_the_artefact_unchanged(tmp_path: Path) -> None:
    source = credit.data_path()
    with source.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fieldnames = list(reader.fieldnames or [])
        rows = list(reader)
    rng = random.Random(13)
    for name in p.PROTECTED_SOURCE_FIELDS:
        values = sorted({row[name] for row in rows})
        for row in rows:
            row[name] = rng.choice(values)
    scrambled = tmp_path / "germancredit.csv"
    with scrambled.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    # One fit, on the scrambled data, against the committed artefact: the artefact that runs is
    # the trainer's output on the real data (`make train-credit CHECK=1`), so a trainer that read a
    # protected field would give another one here, whether or not the artefact was retrained.
    original, changed = credit.load(source), credit.load(scrambled)
    # The groups did change: the test would see a trainer that read them.
    assert changed.groups != original.groups
    assert changed.columns == original.columns and (changed.bad == original.bad).all()
    training, _ = credit.split(changed)
    assert credit.fit(training).artefact == ARTEFACT_PATH.read_text()


def test_age_changes_nothing_once_an_adult() -> None:
    decider = CreditDecider(POLICY, Scorecard.load())
    decisions = [
        decider.decide(
            application(date_of_birth=dt.date(TODAY.year - years, 6, 1)),
            Exposure(),
            Exposure(),
            TODAY,
        )
        for years in (19, 25, 40, 67, 90)
    ]
    first = decisions[0]
    for decision in decisions[1:]:
        assert decision == first
    assert first.score is not None
