"""Run checkov in-process over Terraform directories and plan JSON files.

Checkov is used as a library (its terraform and terraform_plan runners): importing it costs
several seconds, scanning a directory well under one, so one process scans every directory.
Each directory gets its own runner, so every directory is its own graph (one root per run).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
POLICIES_DIR = REPO_ROOT / "policies"

# checkov phones home for guidelines and version data unless told not to
os.environ.setdefault("BC_SKIP_MAPPING", "TRUE")
os.environ.setdefault("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
os.environ.setdefault("SKIP_DOWNLOAD", "true")
os.environ.setdefault("LOG_LEVEL", "WARNING")


@dataclass(frozen=True)
class Finding:
    """One result of one check on one resource."""

    check_id: str
    check_name: str
    result: str  # passed | failed | skipped
    resource: str
    file: str
    lines: tuple[int, int]
    scanned: str
    guideline: str = ""
    severity: str = ""
    details: tuple[str, ...] = ()
    suppress_comment: str = ""


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    parsing_errors: list[str] = field(default_factory=list)

    def extend(self, other: ScanResult) -> None:
        self.findings += other.findings
        self.parsing_errors += other.parsing_errors


def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return path


def _findings(report: Any, scanned: str) -> ScanResult:
    out = ScanResult(parsing_errors=[_relative(p) for p in report.parsing_errors])
    buckets = (
        ("passed", report.passed_checks),
        ("failed", report.failed_checks),
        ("skipped", report.skipped_checks),
    )
    for result, records in buckets:
        for record in records:
            lines = tuple(record.file_line_range or (0, 0))
            severity = record.severity.name if record.severity is not None else ""
            out.findings.append(
                Finding(
                    check_id=record.check_id,
                    check_name=record.check_name,
                    result=result,
                    resource=record.resource,
                    file=_relative(record.file_abs_path or record.file_path),
                    lines=(int(lines[0]), int(lines[-1])),
                    scanned=scanned,
                    guideline=record.guideline or "",
                    severity=severity,
                    details=tuple(record.details or ()),
                    suppress_comment=str(record.check_result.get("suppress_comment", "")),
                )
            )
    return out


def run_checkov(
    directories: Sequence[Path] = (),
    plan_files: Sequence[Path] = (),
    *,
    checks: Iterable[str] | None = None,
    skip_checks: Iterable[str] | None = None,
    custom_policies: bool = True,
) -> ScanResult:
    """Scan each directory (HCL) and each plan JSON with the given checks.

    ``checks=None`` runs every check checkov knows (built-in plus, when ``custom_policies``,
    ours); otherwise only the listed IDs run.
    """
    logging.getLogger("checkov").setLevel(logging.ERROR)
    from checkov.runner_filter import RunnerFilter
    from checkov.terraform.plan_runner import Runner as PlanRunner
    from checkov.terraform.runner import Runner as TerraformRunner

    external = [str(POLICIES_DIR)] if custom_policies else None
    check_list = sorted(checks) if checks is not None else None
    skip_list = sorted(skip_checks or [])
    result = ScanResult()
    for directory in directories:
        runner_filter = RunnerFilter(
            framework=["terraform"],
            checks=check_list,
            skip_checks=skip_list,
            download_external_modules=False,
            show_progress_bar=False,
        )
        report = TerraformRunner().run(
            root_folder=str(directory), external_checks_dir=external, runner_filter=runner_filter
        )
        result.extend(_findings(report, _relative(str(directory))))
    for plan in plan_files:
        runner_filter = RunnerFilter(
            framework=["terraform_plan"],
            checks=check_list,
            skip_checks=skip_list,
            show_progress_bar=False,
        )
        report = PlanRunner().run(
            root_folder=None,
            files=[str(plan)],
            external_checks_dir=external,
            runner_filter=runner_filter,
        )
        result.extend(_findings(report, _relative(str(plan))))
    return result
