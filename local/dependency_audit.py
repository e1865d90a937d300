"""``make audit``: known vulnerabilities in every locked dependency (pip-audit).

The resolved set is ``uv.lock`` exported for this interpreter (all groups, pinned, no hashes);
pip-audit looks each pin up in PyPI's vulnerability data (it needs the network, so ``make test``
does not run it: CI must not pass or fail on a remote service's answer). The report is
``build/audit/pip-audit.json``.

pip-audit says "No known vulnerabilities found" and exits 0 when it could audit nothing (every
package "not found on PyPI"); this wrapper counts what was audited and fails unless every pin
was, so an audit that did not happen never reads as a clean one. Findings in a runtime
dependency (one that ships in the Lambda zips) are marked as such.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.build_lambda import uv

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = REPO_ROOT / "build" / "audit"
EXPORT = ["export", "--frozen", "--no-emit-project", "--no-hashes", "--no-header", "--no-annotate"]


@dataclass
class Summary:
    audited: int = 0
    not_audited: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)


def pinned_names(requirements: str) -> set[str]:
    return {
        line.split("==")[0].strip().lower()
        for line in requirements.splitlines()
        if "==" in line and not line.lstrip().startswith("#")
    }


def summarise(report: dict[str, Any], runtime: set[str]) -> Summary:
    summary = Summary()
    for dependency in report["dependencies"]:
        name, version = dependency["name"], dependency.get("version", "?")
        if "skip_reason" in dependency:
            summary.not_audited.append(str(dependency["skip_reason"]))
            continue
        summary.audited += 1
        where = "runtime (in the Lambda zips)" if name.lower() in runtime else "dev only"
        for vuln in dependency.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions", []))
            aliases = ", ".join(vuln.get("aliases", []))
            summary.findings.append(
                f"{name} {version} [{where}]: {vuln['id']}"
                + (f" ({aliases})" if aliases else "")
                + (f"; fixed in {fixes}" if fixes else "; no fixed version yet")
            )
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    requirements = args.out / "requirements.txt"
    requirements.write_text(uv(*EXPORT, "--all-groups"))
    runtime = pinned_names(uv(*EXPORT, "--no-dev"))
    report_path = args.out / "pip-audit.json"
    # --no-deps with --disable-pip: audit exactly the pins, without pip resolving them again.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--disable-pip",
            "--no-deps",
            "--progress-spinner",
            "off",
            "--vulnerability-service",
            "pypi",
            "--format",
            "json",
            "--output",
            str(report_path),
            "--requirement",
            str(requirements),
        ],
        cwd=REPO_ROOT,
        check=False,
    )
    if not report_path.exists():
        print("audit: pip-audit wrote no report")
        return 2
    summary = summarise(json.loads(report_path.read_text()), runtime)
    total = summary.audited + len(summary.not_audited)
    print(f"audit: {summary.audited} of {total} locked distributions audited ({report_path})")
    for line in summary.findings:
        print(f"  vulnerable: {line}")
    for line in summary.not_audited[:10]:
        print(f"  not audited: {line}")
    if len(summary.not_audited) > 10:
        print(f"  ... and {len(summary.not_audited) - 10} more not audited")
    if summary.not_audited:
        print("audit: incomplete: the vulnerability service did not answer for every pin")
        return 2
    return 1 if summary.findings else 0


if __name__ == "__main__":
    sys.exit(main())
