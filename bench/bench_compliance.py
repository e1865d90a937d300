"""Benchmark the PCI DSS scan against plain checkov over the same directories.

``compliance_scan_s`` is the wall time of ``python -m compliance.scan`` over the repository
(modules/ and environments/*, our policies plus the mapped built-ins, reports written), median
of 3. ``compliance_scan_ratio_vs_plain_checkov`` divides it by the median wall time of checkov
with its built-in checks only over the same directories, in-process the same way, measured in
the same run with the two interleaved (the machine is shared, so only the ratio is stable).
Both include starting Python and importing checkov, which is most of the time.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from compliance.scan import default_directories

REPO_ROOT = Path(__file__).resolve().parent.parent
PLAIN = (
    "from compliance.engine import run_checkov\n"
    "from compliance.scan import default_directories\n"
    "run_checkov(default_directories(), custom_policies=False, record_unknown=False)\n"
)


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1 = the scan found failures, still a complete scan
        raise RuntimeError(f"{command} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def run(repeats: int = 3) -> dict[str, dict[str, float | str]]:
    ours: list[float] = []
    plain: list[float] = []
    with tempfile.TemporaryDirectory() as out:
        # the directories by name, as the baseline scans them: without --scan the scan also
        # reads environments/local/tfplan.json when an earlier `make compliance` left one
        directories = [arg for d in default_directories() for arg in ("--scan", str(d))]
        scan = [sys.executable, "-m", "compliance.scan", "--out", out, *directories]
        for _ in range(repeats):
            ours.append(_timed(scan))
            plain.append(_timed([sys.executable, "-c", PLAIN]))
    ours_s = statistics.median(ours)
    plain_s = statistics.median(plain)
    return {
        "compliance_scan_s": {"value": round(ours_s, 3), "unit": "s"},
        "compliance_scan_ratio_vs_plain_checkov": {
            "value": round(ours_s / plain_s, 3),
            "unit": "ratio",
        },
    }


if __name__ == "__main__":
    for name, figure in run().items():
        print(f"{name}: {figure['value']} {figure['unit']}")
