"""The trainer on a small seeded sample: bit-for-bit reproducible, labels that arrive late,
and `make train-fraud` refusing a model that does not beat the rules scorer."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from functions.domain.cards import contains_card_number
from functions.domain.fraud_model import FraudModel
from ml.fraud import __main__ as cli
from ml.fraud import train as training  # the module cli calls training.train() through
from ml.fraud.generator import GENUINE, TYPOLOGIES, GeneratorConfig, generate
from ml.fraud.metrics import threshold_at_fpr
from ml.fraud.train import Result, SplitConfig, train

SMALL = GeneratorConfig(
    seed=11,
    days=9,
    cards=300,
    merchants=40,
    bins=12,
    attacks_per_day=(
        ("card_testing", 0.5),
        ("bin_attack", 0.3),
        ("account_takeover", 3.0),
        ("stolen_card_burst", 2.0),
        ("high_value_first_purchase", 3.0),
    ),
)
SMALL_SPLIT = SplitConfig(warmup_days=2, test_start_day=6)
# Every typology at the default rates (bin attacks are rare: 0.15 a day).
MEDIUM = GeneratorConfig(seed=13, days=14, cards=800, merchants=40, bins=12)


@pytest.fixture(scope="module")
def trained() -> Result:
    return train(SMALL, SMALL_SPLIT)


def test_the_same_seed_rebuilds_the_same_artefact_bytes(trained: Result) -> None:
    assert train(SMALL, SMALL_SPLIT).artefact == trained.artefact


def test_another_seed_gives_other_data() -> None:
    first = [item.event for item in generate(SMALL)]
    other = [item.event for item in generate(dataclasses.replace(SMALL, seed=12))]
    assert first == [item.event for item in generate(SMALL)]
    assert first != other


def test_every_typology_occurs_and_labels_arrive_after_the_attempt() -> None:
    events = generate(MEDIUM)
    assert {item.typology for item in events} == {GENUINE, *TYPOLOGIES}
    for item in events:
        if item.fraud:
            assert item.label_at is not None and item.label_at > item.event.occurred_at
        else:
            assert item.label_at is None


def test_the_trainer_knows_only_the_labels_that_had_arrived(trained: Result) -> None:
    evaluation = trained.evaluation
    assert 0 < evaluation.frauds_train_known < evaluation.frauds_train_total


def test_train_fraud_refuses_a_model_that_does_not_beat_the_rules(
    trained: Result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's bar is checked where the full data set is trained (`make train-fraud`): on
    samples small enough for a unit test the comparison moves with the seed."""
    artefact = tmp_path / "fraud_model.json"
    card = tmp_path / "fraud.md"
    card.write_text("<!-- BEGIN SYNTHETIC METRICS -->\n<!-- END SYNTHETIC METRICS -->\n")
    monkeypatch.setattr(cli, "ARTEFACT_PATH", artefact)
    monkeypatch.setattr(cli, "MODEL_CARD", card)
    evaluation = trained.evaluation
    worse = dataclasses.replace(evaluation, model=evaluation.rules)
    monkeypatch.setattr(training, "train", lambda: Result(trained.artefact, worse))
    assert cli.main(["train"]) == 1
    assert not artefact.exists()
    better = dataclasses.replace(
        evaluation, rules=dataclasses.replace(evaluation.model, pr_auc=0.0)
    )
    monkeypatch.setattr(training, "train", lambda: Result(trained.artefact, better))
    assert cli.main(["train"]) == 0
    assert artefact.read_text() == trained.artefact
    assert "| model (`fraud-lr`, the artefact) |" in card.read_text()
    assert cli.main(["train", "--check"]) == 0


def test_the_artefact_loads_in_the_scorer(trained: Result) -> None:
    model = FraudModel.from_json(trained.artefact)
    assert 0 < model.review_threshold <= model.block_threshold < 1


def test_no_generated_value_looks_like_a_card_number() -> None:
    for item in generate(SMALL)[:2_000]:
        assert not contains_card_number(repr(item.event))


def test_a_threshold_at_a_false_positive_rate_flags_at_most_that_share() -> None:
    genuine = [i / 1_000 for i in range(1_000)]
    threshold = threshold_at_fpr(genuine, 0.01)
    assert sum(score >= threshold for score in genuine) == 10
