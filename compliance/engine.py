"""Run checkov in-process over Terraform directories and plan JSON files.

Checkov is used as a library (its terraform and terraform_plan runners): importing it costs
several seconds, scanning a directory well under one, so one process scans every directory.
Each directory gets its own runner, so every directory is its own graph (one root per run).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
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


# Our Python checks report what they could not evaluate themselves (they also answer UNKNOWN
# for resources out of their scope); every other check's UNKNOWN is recorded here.
OWN_PYTHON_CHECK = re.compile(r"^CKV_PCI_\d{3}$")
UNKNOWN_VALUE = (
    "checkov's check answered UNKNOWN: {key} = {value} is a value it could not resolve here "
    "(judged where the caller or a plan renders it)"
)
UNKNOWN_GRAPH = (
    "checkov's graph check answered UNKNOWN: an attribute it tests is not rendered here (an "
    "expression only a caller or a plan renders)"
)
UNKNOWN_RESOURCE = (
    "checkov's check answered UNKNOWN: it could not evaluate the resource here (a value it "
    "tests is an expression only a caller or a plan renders)"
)


# An attribute value that is still an expression (HCL the caller or a plan renders).
EXPRESSION = re.compile(r"(^|[^\w.])((var|local|module|each|data|count)\.\w|aws_\w+\.[\w-]+)|\$\{")


def _inspected(check: Any, conf: dict[str, Any]) -> str | None:
    """Why a value check (checkov's ``BaseResourceValueCheck`` and kin) could not decide: the
    key it inspects and the value it found there; None when that value is a resolved literal,
    so the UNKNOWN is the check's own verdict that the resource is outside it (CKV_AWS_7 on
    an HMAC key, which KMS cannot rotate), not a value it could not read."""
    key = getattr(check, "get_inspected_key", None)
    if not callable(key):
        return UNKNOWN_RESOURCE
    try:
        path = str(key())
    except Exception:  # a check's own lookup failing is no reason to lose the record
        return UNKNOWN_RESOURCE
    value: Any = conf
    for part in path.split("/"):
        while isinstance(value, list) and len(value) == 1:
            value = value[0]
        if part.startswith("[") or part == "*":
            continue
        value = value.get(part) if isinstance(value, dict) else None
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, (bool, int, float)) or (
        isinstance(value, str) and value.strip() and not EXPRESSION.search(value)
    ):
        return None
    text = " ".join(str(value).split())
    text = text if len(text) <= 80 else text[:79] + "…"
    return UNKNOWN_VALUE.format(key=path.replace("/[0]", "").replace("/", "."), value=text)


@contextlib.contextmanager
def _recording_unknowns(collector: _UnresolvedCollector, checks: set[str] | None) -> Iterator[None]:
    """Record every UNKNOWN that checkov's own checks (resource and graph checks, ours in YAML
    included) answer while this runs. Checkov drops them from its reports, so a resource such a
    check could not evaluate would otherwise look like one it never saw."""
    from checkov.common.checks.base_check import BaseCheck
    from checkov.common.graph.checks_infra.base_check import BaseGraphCheck
    from checkov.common.models.enums import CheckResult

    def wanted(check_id: str) -> bool:
        return not OWN_PYTHON_CHECK.match(check_id) and (checks is None or check_id in checks)

    resource_run = BaseCheck.run
    graph_run = BaseGraphCheck.run

    def run_resource_check(
        self: Any, scanned_file: str, entity_configuration: dict[str, Any], *args: Any, **kw: Any
    ) -> Any:
        result = resource_run(self, scanned_file, entity_configuration, *args, **kw)
        if result.get("result") == CheckResult.UNKNOWN and wanted(self.id):
            conf = entity_configuration
            reason = _inspected(self, conf)
            if reason is None:
                return result
            entity_name = args[0] if args else kw.get("entity_name", "")
            entity_type = args[1] if len(args) > 1 else kw.get("entity_type", "")
            collector.records.append(
                {
                    "check_id": self.id,
                    "check_name": self.name,
                    "resource": str(conf.get("__address__") or f"{entity_type}.{entity_name}"),
                    "file": scanned_file,
                    "lines": _lines(conf.get("__start_line__"), conf.get("__end_line__")),
                    "reason": reason,
                }
            )
        return result

    def run_graph_check(self: Any, graph_connector: Any) -> Any:
        passed, failed, unknown = graph_run(self, graph_connector)
        if unknown and wanted(self.id):
            for vertex in unknown:
                collector.records.append(
                    {
                        "check_id": self.id,
                        "check_name": self.name,
                        "resource": str(vertex.get("__address__") or vertex.get("block_name_")),
                        "file": str(vertex.get("file_path_", "")),
                        "lines": _lines(vertex.get("__start_line__"), vertex.get("__end_line__")),
                        "reason": UNKNOWN_GRAPH,
                    }
                )
        return passed, failed, unknown

    BaseCheck.run = run_resource_check  # type: ignore[method-assign]
    BaseGraphCheck.run = run_graph_check  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseCheck.run = resource_run  # type: ignore[method-assign]
        BaseGraphCheck.run = graph_run  # type: ignore[method-assign]


def _lines(start: Any, end: Any) -> tuple[int, int]:
    def number(value: Any) -> int:
        while isinstance(value, list) and len(value) == 1:
            value = value[0]
        return int(value) if isinstance(value, int | str) and str(value).isdigit() else 0

    return number(start), number(end)


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
    record_unknown: bool = True,
) -> ScanResult:
    """Scan each directory (HCL) and each plan JSON with the given checks.

    ``checks=None`` runs every check checkov knows (built-in plus, when ``custom_policies``,
    ours); otherwise only the listed IDs run.
    ``record_unknown=False`` leaves checkov's UNKNOWN answers unrecorded, as checkov itself does
    (the benchmark's plain-checkov baseline).
    """
    logging.getLogger("checkov").setLevel(logging.ERROR)
    external = [str(POLICIES_DIR)] if custom_policies else None
    collector = _UnresolvedCollector()
    unresolved_logger = logging.getLogger(UNRESOLVED_LOGGER)
    unresolved_logger.addHandler(collector)
    # the compliance scan reports them itself; checkov run by hand shows them as warnings
    propagate, unresolved_logger.propagate = unresolved_logger.propagate, False
    try:
        if not record_unknown:
            return _run(directories, plan_files, checks, skip_checks, external, collector)
        with _recording_unknowns(collector, set(checks) if checks is not None else None):
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
