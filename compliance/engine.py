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
# the logger name our policies report unresolved evaluations on (policies/pci_common.py)
UNRESOLVED_LOGGER = "pci_policies.unresolved"
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


@dataclass(frozen=True)
class Unresolved:
    """An in-scope resource a check could not evaluate (checkov's UNKNOWN, which its own
    reports drop): a value the rule needs is an expression only a plan renders."""

    check_id: str
    check_name: str
    resource: str
    file: str
    lines: tuple[int, int]
    scanned: str
    reason: str


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    parsing_errors: list[str] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)

    def extend(self, other: ScanResult) -> None:
        self.findings += other.findings
        self.parsing_errors += other.parsing_errors
        self.unresolved += [u for u in other.unresolved if u not in self.unresolved]


class _UnresolvedCollector(logging.Handler):
    """Collects the records our checks log when they cannot evaluate a resource (see
    ``UNRESOLVED_LOGGER`` in ``policies/pci_common.py``)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        data = getattr(record, "pci_unresolved", None)
        if isinstance(data, dict):
            self.records.append(data)

    def take(self, root: Path | None, scanned: str) -> list[Unresolved]:
        out: list[Unresolved] = []
        for data in self.records:
            path = str(data.get("file", ""))
            if root is not None and not Path(path).is_file():
                path = os.path.normpath(str(root) + "/" + path.lstrip("/"))
            item = Unresolved(
                check_id=str(data["check_id"]),
                check_name=str(data.get("check_name", "")),
                resource=str(data["resource"]),
                file=_relative(path),
                lines=tuple(data.get("lines") or (0, 0)),
                scanned=scanned,
                reason=str(data.get("reason", "")),
            )
            if item not in out:
                out.append(item)
        self.records = []
        return out


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
    external = [str(POLICIES_DIR)] if custom_policies else None
    collector = _UnresolvedCollector()
    unresolved_logger = logging.getLogger(UNRESOLVED_LOGGER)
    unresolved_logger.addHandler(collector)
    # the compliance scan reports them itself; checkov run by hand shows them as warnings
    propagate, unresolved_logger.propagate = unresolved_logger.propagate, False
    try:
        return _run(directories, plan_files, checks, skip_checks, external, collector)
    finally:
        unresolved_logger.removeHandler(collector)
        unresolved_logger.propagate = propagate


def _run(
    directories: Sequence[Path],
    plan_files: Sequence[Path],
    checks: Iterable[str] | None,
    skip_checks: Iterable[str] | None,
    external: list[str] | None,
    collector: _UnresolvedCollector,
) -> ScanResult:
    from checkov.runner_filter import RunnerFilter
    from checkov.terraform.plan_runner import Runner as PlanRunner
    from checkov.terraform.runner import Runner as TerraformRunner

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
        found = _findings(report, _relative(str(directory)))
        found.unresolved = collector.take(directory, _relative(str(directory)))
        result.extend(found)
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
        found = _findings(report, _relative(str(plan)))
        found.unresolved = collector.take(None, _relative(str(plan)))
        result.extend(found)
    return result
