"""PCI DSS v4.0.1 scan: ``python -m compliance.scan [--scan DIR ...] [--plan-json FILE ...]``.

Runs the checks named in ``compliance/mapping.yaml`` (our ``policies/`` plus the checkov
built-ins the mapping lists) over ``modules/`` and every ``environments/*`` directory, or over
the directories given with ``--scan``; applies ``compliance/exceptions.yaml``; writes the
reports to ``compliance/reports/``; exits 1 on any failed check, expired exception or scan error
(and, with ``--require-resolved``, on any in-scope resource a check could not evaluate; with
``--require-resolved-plans``, on any such resource of a plan JSON: the gate, since a plan of an
applied environment renders every value, while the HCL scan's not-evaluated stay advisory).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from compliance import provenance
from compliance.engine import REPO_ROOT, Finding, run_checkov
from compliance.register import (
    EXCEPTIONS_PATH,
    MAPPING_PATH,
    RegisterError,
    custom_policies,
    load_exceptions,
    load_mapping,
)
from compliance.reports import Outcome, write_all

DEFAULT_OUT = REPO_ROOT / "compliance" / "reports"
LOCAL_PLAN = REPO_ROOT / "environments" / "local" / "tfplan.json"


class _ErrorCollector(logging.Handler):
    """Checkov logs (and swallows) crashes of individual checks; make them fail the scan."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "Failed to run check" in message or "Cannot load external check" in message:
            self.messages.append(message)


def default_directories() -> list[Path]:
    dirs = [REPO_ROOT / "modules"]
    environments = REPO_ROOT / "environments"
    if environments.is_dir():
        dirs += sorted(
            p for p in environments.iterdir() if p.is_dir() and not p.name.startswith(".")
        )
    return [d for d in dirs if d.is_dir()]


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def scan(
    directories: Sequence[Path],
    plan_files: Sequence[Path] = (),
    *,
    mapping_path: Path = MAPPING_PATH,
    exceptions_path: Path = EXCEPTIONS_PATH,
    today: dt.date | None = None,
) -> Outcome:
    mapping = load_mapping(mapping_path)
    exceptions = load_exceptions(exceptions_path, today)
    # Every entry, "*" included, is matched against the results after the run: a check handed
    # to checkov as skipped would leave no result, and its requirement would read
    # not_applicable where every resource in scope is in fact excepted.
    global_skips = [e for e in exceptions.active if e.is_global]
    scoped = [e for e in exceptions.active if not e.is_global] + global_skips

    collector = _ErrorCollector()
    root_logger = logging.getLogger()
    root_logger.addHandler(collector)
    try:
        result = run_checkov(
            directories,
            plan_files,
            checks=mapping.checks,
        )
    finally:
        root_logger.removeHandler(collector)

    findings: list[Finding] = []
    excepted = []
    for finding in result.findings:
        exception = next((e for e in scoped if e.matches(finding)), None)
        if finding.result == "failed" and exception is not None:
            finding = Finding(
                **{**finding.__dict__, "result": "skipped", "suppress_comment": "exception"}
            )
            excepted.append((finding, exception))
        elif finding.result == "skipped" and exception is not None:
            # a checkov:skip in the code that the register also holds: the reports name the
            # register's owner and expiry, which the comment in the code does not carry
            excepted.append((finding, exception))
        findings.append(finding)

    errors = [f"parse error: {p}" for p in result.parsing_errors] + collector.messages
    return Outcome(
        mapping=mapping,
        scanned=[_display(d) for d in [*directories, *plan_files]],
        findings=findings,
        excepted=excepted,
        global_exceptions=global_skips,
        expired=exceptions.expired,
        errors=errors,
        policies=custom_policies(),
        unresolved=result.unresolved,
        provenance=provenance.collect(mapping_path, exceptions_path, (*directories, *plan_files)),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compliance.scan", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--scan",
        action="append",
        type=Path,
        metavar="DIR",
        help="Terraform directory to scan (repeatable); default: modules/ and environments/*",
    )
    parser.add_argument(
        "--plan-json",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="`terraform show -json` output to scan as well (repeatable)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="report directory (default: compliance/reports)",
    )
    parser.add_argument(
        "--require-resolved",
        action="store_true",
        help="exit 1 when any resource in scope could not be evaluated (verdict INCOMPLETE); "
        "use it on plan JSON scans, where every value is known",
    )
    parser.add_argument(
        "--require-resolved-plans",
        action="store_true",
        help="exit 1 when a resource of a plan JSON could not be evaluated (the environments' "
        "gate); what the HCL scan cannot evaluate stays advisory",
    )
    parser.add_argument("--mapping", type=Path, default=MAPPING_PATH, help=argparse.SUPPRESS)
    parser.add_argument("--exceptions", type=Path, default=EXCEPTIONS_PATH, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    directories = args.scan or default_directories()
    missing = [d for d in directories if not d.is_dir()]
    if missing:
        parser.error(f"not a directory: {', '.join(map(str, missing))}")
    plans: list[Path] = list(args.plan_json)
    if not args.scan and not plans:
        if LOCAL_PLAN.is_file():
            plans.append(LOCAL_PLAN)
        else:
            print(
                "notice: no plan JSON for environments/local; scanning its HCL only "
                f"(pass --plan-json FILE or write {_display(LOCAL_PLAN)} "
                "with `terraform show -json`)"
            )
    for plan in plans:
        if not plan.is_file():
            parser.error(f"no such plan file: {plan}")

    try:
        outcome = scan(
            directories, plans, mapping_path=args.mapping, exceptions_path=args.exceptions
        )
    except RegisterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.require_resolved_plans:
        outcome.gated_plans = [_display(p) for p in plans]
    paths = write_all(outcome, args.out)
    summary = outcome.document()["summary"]
    print(
        f"PCI DSS v4.0.1: {summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['unresolved']} unresolved, {summary['excepted']} excepted, "
        f"{summary['not_applicable']} not applicable, "
        f"{summary['manual']} manual; {len(outcome.failures)} failed check results, "
        f"{len(outcome.unresolved)} not evaluated, "
        f"{len(outcome.excepted)} exceptions applied. "
        f"Verdict: {outcome.verdict_line}"
    )
    for finding in outcome.failures:
        details = f" - {'; '.join(finding.details)}" if finding.details else ""
        print(
            f"  FAIL {finding.check_id} {finding.resource} ({finding.file}:{finding.lines[0]})"
            + details
        )
    for item in outcome.unresolved:
        print(
            f"  NOT EVALUATED {item.check_id} {item.resource} ({item.file}:{item.lines[0]})"
            f" - {item.reason}"
        )
    for exception in outcome.expired:
        print(
            f"  EXPIRED exception {exception.check} on {exception.resource} "
            f"(expired {exception.expires}, owner {exception.owner})"
        )
    for message in outcome.errors:
        print(f"  ERROR {message}")
    print("reports: " + ", ".join(_display(p) for p in paths.values()))
    if not outcome.ok:
        return 1
    if args.require_resolved_plans:
        if not plans:
            print("gate: no plan JSON was scanned, so no environment is gated")
            return 1
        print(
            f"gate: {outcome.gate_verdict}, {len(outcome.gate_gaps)} in-scope resources of "
            f"{', '.join(outcome.gated_plans)} not evaluated"
        )
        if outcome.gate_gaps:
            return 1
    return 1 if args.require_resolved and outcome.unresolved else 0


if __name__ == "__main__":
    sys.exit(main())
