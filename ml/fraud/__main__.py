"""``python -m ml.fraud train [--check]`` (``make train-fraud``) and ``python -m ml.fraud
report`` (``make model-report``).

``train`` regenerates the synthetic data from its seed, trains, writes the artefact the Lambda
packages (``functions/domain/fraud_model.json``) and the synthetic figures of the model card
(``docs/models/fraud.md``). ``--check`` writes nothing and fails if the artefact would change:
a retrain from the same seed must give the same bytes.

``report`` adds the real-data figures (the ULB data set, downloaded into ``.cache/`` on first
use) to the model card.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from functions.domain.fraud_model import ARTEFACT_PATH
from ml.fraud import train as training
from ml.fraud import ulb
from ml.fraud.metrics import Quality

MODEL_CARD = Path(__file__).resolve().parents[2] / "docs" / "models" / "fraud.md"


def _quality_rows(label: str, q: Quality) -> str:
    return (
        f"| {label} | {q.pr_auc:.4f} | {q.recall_at_1pct_fpr:.4f} | "
        f"{q.recall_at_01pct_fpr:.4f} | {q.roc_auc:.4f} |"
    )


def _replace_section(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", flags=re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{MODEL_CARD} has no {name} markers")
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)


def synthetic_section(result: training.Result) -> str:
    e = result.evaluation
    thresholds = json.loads(result.artefact)["thresholds"]
    lines = [
        "| scorer (test split) | PR-AUC | recall at 1 % FPR | recall at 0.1 % FPR | ROC-AUC |",
        "| --- | ---: | ---: | ---: | ---: |",
        _quality_rows("model (`fraud-lr`, the artefact)", e.model),
        _quality_rows("rules (`rules-v1`, default settings)", e.rules),
        "",
        f"Training rows {e.rows_train:,} ({e.frauds_train_total} frauds, of which "
        f"{e.frauds_train_known} labelled by the training date); test rows {e.rows_test:,} "
        f"({e.frauds_test} frauds).",
        "",
        f"Thresholds (probability): review ≥ {thresholds['review']}, block ≥ "
        f"{thresholds['block']}; on the test split they flag {e.test_fpr_at_review:.3%} and "
        f"{e.test_fpr_at_block:.3%} of genuine attempts.",
        "",
        "Recall at the review threshold, by typology:",
        "",
        "| typology | recall |",
        "| --- | ---: |",
        *(f"| {name} | {value:.3f} |" for name, value in e.recall_by_typology.items()),
        "",
    ]
    return "\n".join(lines)


def ulb_section(result: ulb.UlbResult) -> str:
    lines = [
        "| model (time-ordered test split) | PR-AUC | recall at 1 % FPR | "
        "recall at 0.1 % FPR | ROC-AUC |",
        "| --- | ---: | ---: | ---: | ---: |",
        _quality_rows("logistic regression (the artefact format)", result.logistic),
    ]
    if result.boosted_trees is not None:
        lines.append(_quality_rows("gradient-boosted trees (reference)", result.boosted_trees))
    lines += [
        "",
        f"Training rows {result.rows_train:,} ({result.frauds_train} frauds); test rows "
        f"{result.rows_test:,} ({result.frauds_test} frauds).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ml.fraud", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train_cmd = commands.add_parser("train", help="rebuild the artefact from the seed")
    train_cmd.add_argument("--check", action="store_true", help="fail if the artefact changes")
    commands.add_parser("report", help="the ULB real-data figures")
    args = parser.parse_args(argv)

    started = time.monotonic()
    if args.command == "train":
        result = training.train()
        print(json.dumps(result.evaluation.to_dict(), indent=1))
        evaluation = result.evaluation
        if evaluation.model.pr_auc <= evaluation.rules.pr_auc:
            # The bar: a model that does not beat the rules must not ship.
            print(
                f"the model's PR-AUC {evaluation.model.pr_auc} does not beat the rules' "
                f"{evaluation.rules.pr_auc} on the held-out split: artefact not written"
            )
            return 1
        if args.check:
            same = ARTEFACT_PATH.exists() and ARTEFACT_PATH.read_text() == result.artefact
            print(f"artefact {'unchanged' if same else 'CHANGED'}: {ARTEFACT_PATH}")
            return 0 if same else 1
        ARTEFACT_PATH.write_text(result.artefact)
        MODEL_CARD.write_text(
            _replace_section(MODEL_CARD.read_text(), "SYNTHETIC METRICS", synthetic_section(result))
        )
        print(f"wrote {ARTEFACT_PATH} and {MODEL_CARD} in {time.monotonic() - started:.0f} s")
        return 0
    report = ulb.evaluate(ulb.load())
    print(ulb_section(report))
    MODEL_CARD.write_text(
        _replace_section(MODEL_CARD.read_text(), "ULB METRICS", ulb_section(report))
    )
    print(f"wrote {MODEL_CARD} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
