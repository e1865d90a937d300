"""``make cost``: price one payment and each environment's fixed floor, write the reports.

    python -m bench.cost [--region eu-west-2] [--cached-inventory] [--no-readme]

Reads the meter's figures from bench/results.json (measuring a payment when they are missing),
re-plans dev, staging and prod offline for the fixed floor's counts into bench/cost/inventory.json
(``--cached-inventory`` reuses that file), and writes bench/cost/report.{md,svg,json}; for the
default Region it also refreshes the README's "What it costs" block, the figures the decision
matrix quotes, and the cost figures in bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.cost import inventory as inventory_module
from bench.cost import model, prices, report, usage

COST_DIR = Path(__file__).resolve().parent
README_PATH = COST_DIR.parents[1] / "README.md"
# Prose that quotes the model's figures inline (report.refresh_inline_figures).
QUOTING_PATHS = (COST_DIR.parents[1] / "docs" / "decision-matrix.md",)


def estimate_from_report(report_json: dict[str, Any]) -> model.Estimate:
    """The estimate a committed report.json's own inputs give with today's price file."""
    recorded = usage.Usage.from_results(report_json["inputs"], "report.json")
    return model.estimate(
        prices.load(report_json["region"]),
        recorded,
        report_json["inventory"],
        report_json.get("lake_layout"),
    )


def update_results(figures: dict[str, dict[str, float | str]]) -> None:
    results = usage.read_results()
    if results:
        results.update(figures)
        usage.RESULTS_PATH.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--region", default=prices.DEFAULT_REGION, choices=prices.regions())
    parser.add_argument(
        "--cached-inventory", action="store_true", help="reuse inventory.json, do not re-plan"
    )
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args(argv)

    measured = usage.measured()
    missing = measured.missing()
    if missing:
        raise SystemExit(f"the meter did not report {', '.join(missing)}; cannot price them")
    counts = inventory_module.load() if args.cached_inventory else inventory_module.refresh()
    layout = inventory_module.lake_layout()
    book = prices.load(args.region)
    estimate = model.estimate(book, measured, counts, layout)
    default = args.region == prices.DEFAULT_REGION
    suffix = "" if default else f"-{args.region}"
    out_dir = COST_DIR if default else COST_DIR / args.region
    out_dir.mkdir(exist_ok=True)
    written = report.write(estimate, measured.as_results(), counts, out_dir, layout)
    print(report.summary(estimate))
    for other in prices.regions():
        if other != args.region:
            alt = model.estimate(prices.load(other), measured, counts, layout)
            print(
                f"{other}: {alt.per_million(alt.express):,.2f} USD per million payments "
                f"(Standard {alt.per_million(alt.standard):,.2f}); fixed "
                + ", ".join(f"{env} {alt.fixed_monthly(env):,.2f}" for env in sorted(alt.fixed))
                + " USD a month"
            )
    unverified = sorted(k for k, p in book.prices.items() if not p.verified)
    if unverified:
        print(f"prices not yet checked against their page ({args.region}): {', '.join(unverified)}")
    if default:
        update_results(report.bench_figures(estimate))
        if not args.no_readme:
            readme = README_PATH.read_text()
            README_PATH.write_text(report.replace_readme_block(readme, report.summary(estimate)))
            written.append(README_PATH)
            for path in QUOTING_PATHS:
                path.write_text(report.refresh_inline_figures(path.read_text(), estimate))
                written.append(path)
    for path in written:
        print(f"wrote {path.relative_to(COST_DIR.parents[1])}{suffix and ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
