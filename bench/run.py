"""Run every benchmark module (``bench/bench_*.py``) and write ``bench/results.json``.

Each module exposes ``run() -> dict[str, dict[str, float | str]]`` returning named figures as
``{"value": ..., "unit": ...}``. Figures are medians or percentiles from one run: the machine is
shared and noisy, so compare ratios measured in the same run rather than absolute numbers.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_PATH = BENCH_DIR / "results.json"


def cost_figures(results: dict[str, dict[str, float | str]]) -> dict[str, dict[str, float | str]]:
    """The cost model (bench/cost) over the payment figures just measured, at the default
    Region's prices; nothing when the payment benchmark did not run."""
    from bench.cost import inventory, model, prices, report, usage

    measured = usage.Usage.from_results(results, "this run")
    if measured.missing():
        return {}
    estimate = model.estimate(prices.load(), measured, inventory.load())
    figures = report.bench_figures(estimate)
    print("== cost (bench/cost, `make cost` for the report)", flush=True)
    for name, figure in figures.items():
        print(f"  {name:48s} {figure['value']:>12} {figure['unit']}", flush=True)
    return figures


@contextlib.contextmanager
def one_emulator(modules: list[ModuleType]) -> Iterator[None]:
    """One emulator and one apply of environments/local for every benchmark that meters on it.

    Each such benchmark starts its own when none is running (so it runs alone too); started
    here, they find it running and use it, which saves an apply (about four minutes) each."""
    from local import cli

    endpoints = cli.Endpoints.from_environ()
    users = [m for m in modules if getattr(m, "USES_EMULATOR", False)]
    start = len(users) > 1 and not (cli.running_pid() and cli.healthy(endpoints))
    if start:
        print(f"== emulator for {', '.join(m.__name__ for m in users)}", flush=True)
        cli.cmd_up(endpoints)
    try:
        yield
    finally:
        if start:
            cli.stop_emulator()


def main(argv: list[str]) -> int:
    selected = set(argv)
    # A full run replaces the file; a run of named benchmarks updates their figures in it.
    existing = json.loads(RESULTS_PATH.read_text()) if RESULTS_PATH.exists() and selected else {}
    modules = [
        importlib.import_module(f"bench.{path.stem}")
        for path in sorted(BENCH_DIR.glob("bench_*.py"))
        if not selected or path.stem in selected
    ]
    with one_emulator(modules):
        for module in modules:
            print(f"== {module.__name__.removeprefix('bench.')}", flush=True)
            figures = module.run()
            for name, figure in figures.items():
                print(f"  {name:48s} {figure['value']:>12} {figure['unit']}", flush=True)
            existing.update(figures)
            # Written after each benchmark: one that fails later loses none of these figures.
            RESULTS_PATH.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
    existing.update(cost_figures(existing))
    RESULTS_PATH.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
    print(f"wrote {RESULTS_PATH.relative_to(BENCH_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
