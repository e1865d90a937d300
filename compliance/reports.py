"""Report writers: pci-dss.json (the contract), SARIF 2.1.0, JUnit XML and a Markdown report."""

from __future__ import annotations

import datetime as dt
import html
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.engine import Finding
from compliance.register import Mapping, PolicyException, PolicyInfo

REPORT_NAMES = {
    "json": "pci-dss.json",
    "sarif": "pci-dss.sarif",
    "junit": "pci-dss.junit.xml",
    "markdown": "pci-dss.md",
}


@dataclass
class Outcome:
    """Everything a report needs, computed once by the scan."""

    mapping: Mapping
    scanned: list[str]
    findings: list[Finding]
    excepted: list[tuple[Finding, PolicyException]] = field(default_factory=list)
    global_exceptions: list[PolicyException] = field(default_factory=list)
    expired: list[PolicyException] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    policies: dict[str, PolicyInfo] = field(default_factory=dict)
    generated: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.result == "failed"]

    def status_of(self, requirement_id: str) -> str:
        requirement = next(r for r in self.mapping.requirements if r.id == requirement_id)
        if not requirement.automated:
            return "manual"
        checks = set(requirement.checks)
        return "fail" if any(f.check_id in checks for f in self.failures) else "pass"

    def document(self) -> dict[str, Any]:
        requirements = []
        for requirement in self.mapping.requirements:
            checks = set(requirement.checks)
            requirements.append(
                {
                    "id": requirement.id,
                    "title": requirement.title,
                    "status": self.status_of(requirement.id),
                    "checks": requirement.checks,
                    "failures": [
                        {"check_id": f.check_id, "resource": f.resource, "file": f.file}
                        for f in self.failures
                        if f.check_id in checks
                    ],
                }
            )
        statuses = [r["status"] for r in requirements]
        return {
            "scanned": self.scanned,
            "requirements": requirements,
            "summary": {
                "passed": statuses.count("pass"),
                "failed": statuses.count("fail"),
                "manual": statuses.count("manual"),
            },
        }

    @property
    def ok(self) -> bool:
        return not self.failures and not self.expired and not self.errors


def write_all(outcome: Outcome, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {kind: out_dir / name for kind, name in REPORT_NAMES.items()}
    document = outcome.document()
    paths["json"].write_text(json.dumps(document, indent=2) + "\n")
    paths["sarif"].write_text(json.dumps(sarif(outcome), indent=2) + "\n")
    paths["junit"].write_bytes(junit(outcome))
    paths["markdown"].write_text(markdown(outcome, document))
    return paths


# --------------------------------------------------------------------------- SARIF


def _rule(outcome: Outcome, check_id: str, name: str) -> dict[str, Any]:
    info = outcome.policies.get(check_id)
    requirements = [r.id for r in outcome.mapping.requirements_of(check_id)]
    rule: dict[str, Any] = {
        "id": check_id,
        "name": check_id,
        "shortDescription": {"text": info.name if info else name or check_id},
        "properties": {"tags": [f"PCI-DSS-{r}" for r in requirements], "pci_dss": requirements},
    }
    if info and info.guideline:
        rule["helpUri"] = info.guideline
    return rule


def _level(finding: Finding) -> str:
    return "warning" if finding.severity in ("LOW", "INFO") else "error"


def sarif(outcome: Outcome) -> dict[str, Any]:
    names = {f.check_id: f.check_name for f in outcome.findings}
    rule_ids = sorted(set(outcome.mapping.checks) | set(names))
    rules = [_rule(outcome, rule_id, names.get(rule_id, "")) for rule_id in rule_ids]
    index = {rule["id"]: i for i, rule in enumerate(rules)}

    def result(finding: Finding, exception: PolicyException | None) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "ruleId": finding.check_id,
            "ruleIndex": index[finding.check_id],
            "level": _level(finding),
            "message": {
                "text": f"{finding.check_name} ({finding.resource})"
                + (f": {'; '.join(finding.details)}" if finding.details else "")
            },
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": finding.file},
                        "region": {
                            "startLine": max(finding.lines[0], 1),
                            "endLine": max(finding.lines[1], 1),
                        },
                    },
                    "logicalLocations": [{"name": finding.resource, "kind": "resource"}],
                }
            ],
        }
        if exception is not None:
            entry["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": (
                        f"{exception.justification} "
                        f"(owner {exception.owner}, expires {exception.expires})"
                    ),
                }
            ]
        return entry

    results = [result(f, None) for f in outcome.failures]
    results += [result(f, e) for f, e in outcome.excepted]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pci-dss-checkov",
                        "informationUri": "https://www.checkov.io/",
                        "semanticVersion": "1.0.0",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }


# --------------------------------------------------------------------------- JUnit


def junit(outcome: Outcome) -> bytes:
    suites = ET.Element("testsuites", name="PCI DSS v4.0.1")
    excepted = {(f.check_id, f.resource, f.file): e for f, e in outcome.excepted}
    total = failed = skipped = 0
    for requirement in outcome.mapping.requirements:
        suite = ET.SubElement(suites, "testsuite", name=f"{requirement.id} {requirement.title}")
        cases = failures = skips = 0
        if not requirement.automated:
            case = ET.SubElement(
                suite, "testcase", classname=requirement.id, name="manual evidence"
            )
            ET.SubElement(case, "skipped", message=requirement.evidence or "manual evidence")
            cases, skips = 1, 1
        checks = set(requirement.checks)
        for finding in outcome.findings:
            if finding.check_id not in checks:
                continue
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{requirement.id}.{finding.check_id}",
                name=f"{finding.resource} ({finding.file})",
                file=finding.file,
            )
            cases += 1
            if finding.result == "failed":
                failures += 1
                failure = ET.SubElement(
                    case, "failure", message=finding.check_name, type=finding.check_id
                )
                failure.text = "\n".join(finding.details) or finding.check_name
            elif finding.result == "skipped":
                skips += 1
                exception = excepted.get((finding.check_id, finding.resource, finding.file))
                reason = exception.justification if exception else finding.suppress_comment
                ET.SubElement(case, "skipped", message=reason or "skipped")
        for exception in outcome.global_exceptions:
            if exception.check in checks:
                case = ET.SubElement(
                    suite,
                    "testcase",
                    classname=f"{requirement.id}.{exception.check}",
                    name="all resources",
                )
                ET.SubElement(case, "skipped", message=f"exception: {exception.justification}")
                cases, skips = cases + 1, skips + 1
        for exception in outcome.expired:
            if exception.check in checks:
                case = ET.SubElement(
                    suite,
                    "testcase",
                    classname=f"{requirement.id}.{exception.check}",
                    name="exception register",
                )
                ET.SubElement(
                    case,
                    "failure",
                    message=f"exception expired on {exception.expires}",
                    type="expired",
                )
                cases, failures = cases + 1, failures + 1
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("skipped", str(skips))
        total, failed, skipped = total + cases, failed + failures, skipped + skips
    suites.set("tests", str(total))
    suites.set("failures", str(failed))
    suites.set("skipped", str(skipped))
    ET.indent(suites)
    return bytes(ET.tostring(suites, encoding="utf-8", xml_declaration=True))


# --------------------------------------------------------------------------- Markdown


def _bar(count: int, total: int, width: int = 30) -> str:
    filled = round(width * count / total) if total else 0
    return "█" * filled + "░" * (width - filled)


def _cell(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def markdown(outcome: Outcome, document: dict[str, Any]) -> str:
    summary = document["summary"]
    total = sum(summary.values())
    verdict = "PASS" if outcome.ok else "FAIL"
    lines = [
        "# PCI DSS v4.0.1 compliance evidence",
        "",
        f"Generated {outcome.generated} by `python -m compliance.scan`. Verdict: **{verdict}**.",
        "",
        "Scanned: " + ", ".join(f"`{s}`" for s in outcome.scanned),
        "",
        "## Summary",
        "",
        "```text",
        f"pass    {_bar(summary['passed'], total)} {summary['passed']}",
        f"fail    {_bar(summary['failed'], total)} {summary['failed']}",
        f"manual  {_bar(summary['manual'], total)} {summary['manual']}",
        "```",
        "",
        "## Requirements",
        "",
        "Results counts the check results behind a requirement; 0 means nothing in the scanned",
        "code was in scope for its checks (a pass with no evidence).",
        "",
        "| Requirement | Title | Status | Results | Checks | Failures |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    icons = {"pass": "✅ pass", "fail": "❌ fail", "manual": "📝 manual"}
    for item in document["requirements"]:
        checks = set(item["checks"])
        results = sum(1 for f in outcome.findings if f.check_id in checks)
        failures = "<br>".join(
            f"`{f['check_id']}` {_cell(f['resource'])} ({_cell(f['file'])})"
            for f in item["failures"]
        )
        lines.append(
            f"| {item['id']} | {_cell(item['title'])} | {icons[item['status']]} | "
            f"{results if item['status'] != 'manual' else '-'} | "
            f"{', '.join(item['checks']) or '-'} | {failures or '-'} |"
        )
    manual = [r for r in outcome.mapping.requirements if not r.automated]
    if manual:
        lines += [
            "",
            "## Manual evidence",
            "",
            "| Requirement | Evidence to collect |",
            "| --- | --- |",
        ]
        lines += [f"| {r.id} | {_cell(r.evidence)} |" for r in manual]
    lines += ["", "## Exceptions", ""]
    rows = [(e, "all resources") for e in outcome.global_exceptions]
    rows += [(e, f"{f.resource} ({f.file})") for f, e in outcome.excepted]
    if rows or outcome.expired:
        lines += [
            "| Check | Applies to | Owner | Expires | State | Justification |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {e.check} | {_cell(where)} | {e.owner} | {e.expires} | applied "
            f"| {_cell(e.justification)} |"
            for e, where in rows
        ]
        lines += [
            f"| {e.check} | {_cell(e.resource)} | {e.owner} | {e.expires} | **expired** "
            f"| {_cell(e.justification)} |"
            for e in outcome.expired
        ]
    else:
        lines.append("None.")
    if outcome.errors:
        lines += ["", "## Scan errors", ""] + [f"- {_cell(e)}" for e in outcome.errors]
    return "\n".join(lines) + "\n"
