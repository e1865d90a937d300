"""Report writers: pci-dss.json (the contract), SARIF 2.1.0, JUnit XML, Markdown and HTML.

A requirement has one of four states, plus one that says the scan could not decide and one
that says it is met by exceptions only:

* ``fail``: a mapped check failed on a resource (or an exception for it has expired);
* ``unresolved``: nothing failed, but a check could not evaluate a resource in scope (a value
  only a plan renders), so the requirement is not shown as passing;
* ``pass``: at least one resource in scope was evaluated and passed, none failed, none
  unresolved (results excepted beside the passes are listed under ``exceptions``);
* ``excepted``: every result in scope is an exception (one of the register, or a
  ``checkov:skip`` in the code): nothing was shown to meet it, so it is never counted as passed;
* ``not_applicable``: none of the requirement's checks found a resource in scope;
* ``manual``: a process requirement, with the artefact that evidences it; checks mapped to it
  support the artefact (their results are listed, a failure fails it) but never make it a pass.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.engine import Finding, Unresolved
from compliance.provenance import Provenance
from compliance.register import Mapping, PolicyException, PolicyInfo, Requirement

REPORT_NAMES = {
    "json": "pci-dss.json",
    "sarif": "pci-dss.sarif",
    "junit": "pci-dss.junit.xml",
    "markdown": "pci-dss.md",
    "html": "pci-dss.html",
}
STATUSES = ("pass", "fail", "unresolved", "excepted", "not_applicable", "manual")
SUMMARY_KEYS = {
    "pass": "passed",
    "fail": "failed",
    "unresolved": "unresolved",
    "excepted": "excepted",
    "not_applicable": "not_applicable",
    "manual": "manual",
}
RESULT_NAMES = {"passed": "pass", "failed": "fail", "skipped": "excepted"}


def _unknown_provenance() -> Provenance:
    return Provenance(
        commit="unknown",
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        checkov="unknown",
        policies="unknown",
        python="unknown",
    )


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
    unresolved: list[Unresolved] = field(default_factory=list)
    provenance: Provenance = field(default_factory=_unknown_provenance)
    # the plan JSONs the gate applies to (--require-resolved-plans), as the reports name them
    gated_plans: list[str] = field(default_factory=list)

    @property
    def generated(self) -> str:
        return self.provenance.generated_at

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.result == "failed"]

    def _requirement(self, requirement_id: str) -> Requirement:
        return next(r for r in self.mapping.requirements if r.id == requirement_id)

    def status_of(self, requirement_id: str) -> str:
        requirement = self._requirement(requirement_id)
        checks = set(requirement.checks)
        if any(f.check_id in checks for f in self.failures) or any(
            e.check in checks for e in self.expired
        ):
            return "fail"
        if not requirement.automated:
            # its checks support the artefact (a failure fails it) but cannot evidence a process
            return "manual"
        if any(u.check_id in checks for u in self.unresolved):
            return "unresolved"
        mine = [f for f in self.findings if f.check_id in checks]
        if any(f.result == "passed" for f in mine):
            return "pass"
        # only exceptions in scope: an assessor must not read a waiver as a control that works
        return "excepted" if mine else "not_applicable"

    def exception_of(self, finding: Finding) -> dict[str, Any] | None:
        """Who excepted a skipped result and until when: the register's entry, or the reason of
        a ``checkov:skip`` in the code (which has no owner and no expiry)."""
        if finding.result != "skipped":
            return None
        for excepted, entry in self.excepted:
            if (excepted.check_id, excepted.resource, excepted.file, excepted.scanned) == (
                finding.check_id,
                finding.resource,
                finding.file,
                finding.scanned,
            ):
                return {
                    "source": "register",
                    "justification": entry.justification,
                    "owner": entry.owner,
                    "expires": entry.expires.isoformat(),
                }
        return {
            "source": "inline",
            "justification": finding.suppress_comment,
            "owner": None,
            "expires": None,
        }

    @property
    def excepted_only(self) -> list[str]:
        """The requirements met by exceptions alone."""
        return [r.id for r in self.mapping.requirements if self.status_of(r.id) == "excepted"]

    @property
    def verdict_line(self) -> str:
        """The verdict as people read it: a PASS that stands on exceptions says so."""
        excepted = self.excepted_only
        if not excepted:
            return self.verdict
        return (
            f"{self.verdict} ({len(excepted)} requirement{'s' if len(excepted) > 1 else ''} "
            f"met by exceptions only: {', '.join(excepted)})"
        )

    @property
    def gate_gaps(self) -> list[Unresolved]:
        """What a check could not evaluate in a gated plan: a plan of an applied environment
        renders every value, so anything there is a gap in a check or the configuration."""
        return [u for u in self.unresolved if u.scanned in self.gated_plans]

    @property
    def gate_verdict(self) -> str | None:
        """PASS when nothing failed and everything in scope of the gated plans was evaluated;
        None when no plan is gated. The HCL scans' not-evaluated do not count: they advise."""
        if not self.gated_plans:
            return None
        return "PASS" if self.ok and not self.gate_gaps else "FAIL"

    @property
    def verdict(self) -> str:
        """FAIL on any failure, expired exception or scan error; INCOMPLETE when nothing failed
        but something in scope could not be evaluated; PASS otherwise."""
        if not self.ok:
            return "FAIL"
        return "INCOMPLETE" if self.unresolved else "PASS"

    def document(self) -> dict[str, Any]:
        requirements = []
        for requirement in self.mapping.requirements:
            checks = set(requirement.checks)
            mine = [f for f in self.findings if f.check_id in checks]
            exceptions = [(f, self.exception_of(f)) for f in mine if f.result == "skipped"]
            item: dict[str, Any] = {
                "id": requirement.id,
                "title": requirement.title,
                "status": self.status_of(requirement.id),
                "checks": requirement.checks,
                "modules": sorted({m for c in requirement.controls for m in c.modules}),
                "evidence": [
                    {
                        "check_id": f.check_id,
                        "resource": f.resource,
                        "file": f.file,
                        "line": f.lines[0],
                        "result": RESULT_NAMES[f.result],
                    }
                    for f in mine
                ],
                "failures": [
                    {
                        "check_id": f.check_id,
                        "resource": f.resource,
                        "file": f.file,
                        "line": f.lines[0],
                    }
                    for f in mine
                    if f.result == "failed"
                ],
                "exceptions": [
                    {
                        "check_id": f.check_id,
                        "resource": f.resource,
                        "file": f.file,
                        "line": f.lines[0],
                        **exception,
                    }
                    for f, exception in exceptions
                    if exception is not None
                ],
                "unresolved": [
                    {
                        "check_id": u.check_id,
                        "resource": u.resource,
                        "file": u.file,
                        "line": u.lines[0],
                        "reason": u.reason,
                    }
                    for u in self.unresolved
                    if u.check_id in checks
                ],
            }
            # a manual requirement's evidence, or what an automated one leaves to people
            if not requirement.automated or requirement.evidence:
                item["manual_evidence"] = {
                    "description": requirement.evidence,
                    "artefact": requirement.artefact or None,
                }
            requirements.append(item)
        statuses = [r["status"] for r in requirements]
        summary: dict[str, Any] = {SUMMARY_KEYS[s]: statuses.count(s) for s in STATUSES}
        summary["verdict"] = self.verdict
        if self.gated_plans:
            summary["gate"] = {
                "plans": self.gated_plans,
                "not_evaluated": len(self.gate_gaps),
                "verdict": self.gate_verdict,
            }
        return {
            "scanned": self.scanned,
            "commit": self.provenance.commit,
            "generated_at": self.provenance.generated_at,
            "tool_versions": self.provenance.tool_versions,
            "standard": f"{self.mapping.standard} {self.mapping.version}".strip(),
            "requirements": requirements,
            "summary": summary,
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
    paths["html"].write_text(html_report(outcome, document))
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


def _locations(file: str, lines: tuple[int, int], resource: str) -> list[dict[str, Any]]:
    return [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": file},
                "region": {"startLine": max(lines[0], 1), "endLine": max(lines[1], 1)},
            },
            "logicalLocations": [{"name": resource, "kind": "resource"}],
        }
    ]


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
            "locations": _locations(finding.file, finding.lines, finding.resource),
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
        elif finding.result == "skipped":
            entry["suppressions"] = [
                {
                    "kind": "inSource",
                    "status": "accepted",
                    "justification": finding.suppress_comment or "checkov:skip",
                }
            ]
        return entry

    def review(item: Unresolved) -> dict[str, Any]:
        # SARIF's "review" kind: the tool could not decide, a person (or the plan scan) must
        return {
            "ruleId": item.check_id,
            "ruleIndex": index[item.check_id],
            "kind": "review",
            "level": "none",
            "message": {"text": f"not evaluated ({item.resource}): {item.reason}"},
            "locations": _locations(item.file, item.lines, item.resource),
        }

    registered = {id(f) for f, _ in outcome.excepted}
    results = [result(f, None) for f in outcome.failures]
    results += [result(f, e) for f, e in outcome.excepted]
    # a checkov:skip in the code is an exception too; it counts towards `excepted`
    results += [
        result(f, None)
        for f in outcome.findings
        if f.result == "skipped" and id(f) not in registered and f.check_id in index
    ]
    document = outcome.document()
    results += [review(u) for u in outcome.unresolved if u.check_id in index]
    provenance = outcome.provenance
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "checkov",
                        "informationUri": "https://www.checkov.io/",
                        "version": provenance.checkov,
                        "semanticVersion": provenance.checkov,
                        "rules": rules,
                        "properties": {"policies_version": provenance.policies},
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not outcome.errors,
                        "endTimeUtc": provenance.generated_at,
                        "toolExecutionNotifications": [
                            {"level": "error", "message": {"text": e}} for e in outcome.errors
                        ],
                    }
                ],
                "properties": {
                    "commit": provenance.commit,
                    "scanned": outcome.scanned,
                    "tool_versions": provenance.tool_versions,
                    # SARIF results are per check; what a requirement amounts to is ours
                    "requirements": [
                        {"id": r["id"], "status": r["status"]} for r in document["requirements"]
                    ],
                    "summary": document["summary"],
                },
                "results": results,
            }
        ],
    }


# --------------------------------------------------------------------------- JUnit


def _case(suite: ET.Element, requirement_id: str, item: Finding | Unresolved) -> ET.Element:
    return ET.SubElement(
        suite,
        "testcase",
        classname=f"{requirement_id}.{item.check_id}",
        name=f"{item.resource} ({item.file}:{item.lines[0]})",
        file=item.file,
    )


def junit(outcome: Outcome) -> bytes:
    suites = ET.Element(
        "testsuites", name="PCI DSS v4.0.1", timestamp=outcome.provenance.generated_at
    )
    excepted = {(f.check_id, f.resource, f.file): e for f, e in outcome.excepted}
    total = failed = skipped = 0
    for requirement in outcome.mapping.requirements:
        suite = ET.SubElement(suites, "testsuite", name=f"{requirement.id} {requirement.title}")
        properties = ET.SubElement(suite, "properties")
        for name, value in (
            ("status", outcome.status_of(requirement.id)),
            ("commit", outcome.provenance.commit),
            *((f"version.{k}", v) for k, v in outcome.provenance.tool_versions.items()),
        ):
            ET.SubElement(properties, "property", name=name, value=value)
        cases = failures = skips = 0
        if not requirement.automated:
            case = ET.SubElement(
                suite, "testcase", classname=requirement.id, name="manual evidence"
            )
            where = f" ({requirement.artefact})" if requirement.artefact else ""
            ET.SubElement(
                case, "skipped", message=(requirement.evidence or "manual evidence") + where
            )
            cases, skips = 1, 1
        checks = set(requirement.checks)
        for item in outcome.unresolved:
            if item.check_id not in checks:
                continue
            case = _case(suite, requirement.id, item)
            ET.SubElement(case, "skipped", message=f"not evaluated: {item.reason}")
            cases, skips = cases + 1, skips + 1
        if requirement.automated and outcome.status_of(requirement.id) == "not_applicable":
            case = ET.SubElement(suite, "testcase", classname=requirement.id, name="not applicable")
            ET.SubElement(case, "skipped", message="no resource in scope of its checks")
            cases, skips = cases + 1, skips + 1
        for finding in outcome.findings:
            if finding.check_id not in checks:
                continue
            case = _case(suite, requirement.id, finding)
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
                reason = (
                    f"exception (owner {exception.owner}, expires {exception.expires}): "
                    f"{exception.justification}"
                    if exception
                    else f"checkov:skip in the code: {finding.suppress_comment or 'no reason'}"
                )
                ET.SubElement(case, "skipped", message=reason)
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

ICONS = {
    "pass": "✅ pass",
    "fail": "❌ fail",
    "unresolved": "❔ unresolved",
    "excepted": "🟨 excepted",
    "not_applicable": "⚪ not applicable",
    "manual": "📝 manual",
}


def _bar(count: int, total: int, width: int = 30) -> str:
    filled = round(width * count / total) if total else 0
    return "█" * filled + "░" * (width - filled)


def _cell(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def _where(item: dict[str, Any]) -> str:
    return f"{item['file']}:{item['line']}"


def _excepted_by(exception: dict[str, Any]) -> str:
    if exception["source"] == "register":
        return f"excepted (register: {exception['owner']}, expires {exception['expires']})"
    return "excepted (checkov:skip in the code, no expiry)"


def _evidence_rows(item: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(result, check, resource, where) for every result behind a requirement, the resources
    a check could not evaluate included (with the reason), each exception with who granted it
    and until when."""
    granted = {(x["check_id"], x["resource"], x["file"], x["line"]): x for x in item["exceptions"]}
    rows = []
    for e in item["evidence"]:
        exception = granted.get((e["check_id"], e["resource"], e["file"], e["line"]))
        result = _excepted_by(exception) if exception else e["result"]
        where = f"{_where(e)}: {exception['justification']}" if exception else _where(e)
        rows.append((result, e["check_id"], e["resource"], where))
    rows += [
        ("not evaluated", u["check_id"], u["resource"], f"{_where(u)}: {u['reason']}")
        for u in item["unresolved"]
    ]
    return rows


def _header(outcome: Outcome, document: dict[str, Any]) -> list[tuple[str, str]]:
    versions = document["tool_versions"]
    gate = []
    if outcome.gated_plans:
        gate = [
            (
                "Gate (plan JSON)",
                f"{outcome.gate_verdict}: {len(outcome.gate_gaps)} in scope not evaluated in "
                + ", ".join(outcome.gated_plans),
            )
        ]
    return [
        ("Verdict", outcome.verdict_line),
        *gate,
        ("Commit", document["commit"]),
        ("Generated", document["generated_at"]),
        ("checkov", versions["checkov"]),
        ("Policies", versions["policies"]),
        ("Scanned", ", ".join(document["scanned"])),
    ]


def markdown(outcome: Outcome, document: dict[str, Any]) -> str:
    summary = document["summary"]
    total = sum(summary[SUMMARY_KEYS[s]] for s in STATUSES)
    lines = ["# PCI DSS v4.0.1 compliance evidence", ""]
    lines += [f"- {name}: `{value}`" for name, value in _header(outcome, document)]
    lines += [
        "",
        "Written by `python -m compliance.scan`. A requirement passes only when at least one",
        "resource in scope of its checks was evaluated and none failed; `unresolved` means a",
        "resource in scope could not be evaluated here (scan the plan JSON to resolve it);",
        "`excepted` means every result in scope is an exception (the register's, or a",
        "`checkov:skip` in the code): nothing shows the control working, so it is not a pass;",
        "`not applicable` means nothing in the scanned code was in scope.",
        "",
        "## Summary",
        "",
        "```text",
    ]
    lines += [
        f"{s.replace('_', ' '):<15} {_bar(summary[SUMMARY_KEYS[s]], total)} "
        f"{summary[SUMMARY_KEYS[s]]}"
        for s in STATUSES
    ]
    lines += [
        "```",
        "",
        "## Requirements",
        "",
        "| Requirement | Title | Status | Evaluated | Failed | Excepted | Unresolved | Checks |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for item in document["requirements"]:
        manual = item["status"] == "manual" and not item["evidence"]
        lines.append(
            f"| [{item['id']}](#req-{item['id'].replace('.', '-')}) | {_cell(item['title'])} "
            f"| {ICONS[item['status']]} | {'-' if manual else len(item['evidence'])} "
            f"| {'-' if manual else len(item['failures'])} "
            f"| {'-' if manual else len(item['exceptions'])} "
            f"| {'-' if manual else len(item['unresolved'])} "
            f"| {', '.join(item['checks']) or '-'} |"
        )
    lines += ["", "## Evidence per requirement", ""]
    for item in document["requirements"]:
        anchor = item["id"].replace(".", "-")
        lines += [
            f'<a id="req-{anchor}"></a>',
            f"### {item['id']} {_cell(item['title'])}: {ICONS[item['status']]}",
            "",
        ]
        if "manual_evidence" in item:
            evidence = item["manual_evidence"]
            artefact = (
                f" Artefact: `{evidence['artefact']}`."
                if evidence["artefact"]
                else (" Artefact: none in the repository yet.")
            )
            lead = "" if item["status"] == "manual" else "Stays with people: "
            lines += [f"{lead}{_cell(evidence['description'])}.{artefact}", ""]
            if item["status"] == "manual" and not item["evidence"]:
                continue
        if item["modules"]:
            lines += [f"Modules: {', '.join(item['modules'])}.", ""]
        rows = [
            f"| {result} | `{check}` | {_cell(resource)} | {_cell(where)} |"
            for result, check, resource, where in _evidence_rows(item)
        ]
        if rows:
            lines += ["| Result | Check | Resource | Where |", "| --- | --- | --- | --- |"]
            lines += rows
        else:
            lines.append("No resource in scope of its checks.")
        lines.append("")
    lines += ["## Exceptions", ""]
    rows_e = [(e, "all resources") for e in outcome.global_exceptions]
    rows_e += [(e, f"{f.resource} ({f.file}:{f.lines[0]})") for f, e in outcome.excepted]
    registered = {id(f) for f, _ in outcome.excepted}
    inline = [f for f in outcome.findings if f.result == "skipped" and id(f) not in registered]
    if rows_e or outcome.expired or inline:
        lines += [
            "| Check | Applies to | Owner | Expires | State | Justification |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {e.check} | {_cell(where)} | {e.owner} | {e.expires} | applied "
            f"| {_cell(e.justification)} |"
            for e, where in rows_e
        ]
        lines += [
            f"| {e.check} | {_cell(e.resource)} | {e.owner} | {e.expires} | **expired** "
            f"| {_cell(e.justification)} |"
            for e in outcome.expired
        ]
        lines += [
            f"| {f.check_id} | {_cell(f'{f.resource} ({f.file}:{f.lines[0]})')} | - | - "
            f"| checkov:skip in the code | {_cell(f.suppress_comment)} |"
            for f in inline
        ]
    else:
        lines.append("None.")
    if outcome.errors:
        lines += ["", "## Scan errors", ""] + [f"- {_cell(e)}" for e in outcome.errors]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- HTML

COLOURS = {
    "pass": "#2e7d32",
    "fail": "#c62828",
    "unresolved": "#ef6c00",
    "excepted": "#a07800",
    "not_applicable": "#9e9e9e",
    "manual": "#1565c0",
}
CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:75rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}
code{font-size:.9em}
.status{color:#fff;border-radius:.25rem;padding:0 .4rem;white-space:nowrap}
"""


def _chart(summary: dict[str, Any]) -> str:
    """A horizontal bar per status, as inline SVG (the report must open offline)."""
    total = sum(summary[SUMMARY_KEYS[s]] for s in STATUSES) or 1
    rows = []
    for i, status in enumerate(STATUSES):
        count = summary[SUMMARY_KEYS[status]]
        width = round(400 * count / total)
        y = i * 26
        rows.append(
            f'<text x="0" y="{y + 16}">{status.replace("_", " ")}</text>'
            f'<rect x="120" y="{y + 4}" width="{width}" height="16" fill="{COLOURS[status]}">'
            f"<title>{status}: {count}</title></rect>"
            f'<text x="{126 + width}" y="{y + 16}">{count}</text>'
        )
    height = 26 * len(STATUSES)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="580" height="{height}" '
        f'role="img" aria-label="requirements by status" font-size="13">{"".join(rows)}</svg>'
    )


def _badge(status: str) -> str:
    return (
        f'<span class="status" style="background:{COLOURS[status]}">'
        f"{status.replace('_', ' ')}</span>"
    )


def html_report(outcome: Outcome, document: dict[str, Any]) -> str:
    e = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>PCI DSS v4.0.1 compliance evidence</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>PCI DSS v4.0.1 compliance evidence</h1>",
        "<table>",
    ]
    parts += [
        f"<tr><th>{e(name)}</th><td><code>{e(value)}</code></td></tr>"
        for name, value in _header(outcome, document)
    ]
    parts += ["</table>", "<h2>Summary</h2>", _chart(document["summary"])]
    parts += [
        "<h2>Requirements</h2><table>",
        "<tr><th>Requirement</th><th>Title</th><th>Status</th><th>Evaluated</th>"
        "<th>Failed</th><th>Excepted</th><th>Unresolved</th><th>Checks</th></tr>",
    ]
    for item in document["requirements"]:
        manual = item["status"] == "manual" and not item["evidence"]
        parts.append(
            f'<tr><td><a href="#req-{e(item["id"])}">{e(item["id"])}</a></td>'
            f"<td>{e(item['title'])}</td><td>{_badge(item['status'])}</td>"
            f"<td>{'-' if manual else len(item['evidence'])}</td>"
            f"<td>{'-' if manual else len(item['failures'])}</td>"
            f"<td>{'-' if manual else len(item['exceptions'])}</td>"
            f"<td>{'-' if manual else len(item['unresolved'])}</td>"
            f"<td>{e(', '.join(item['checks']) or '-')}</td></tr>"
        )
    parts.append("</table><h2>Evidence per requirement</h2>")
    for item in document["requirements"]:
        parts.append(
            f'<h3 id="req-{e(item["id"])}">{e(item["id"])} {e(item["title"])} '
            f"{_badge(item['status'])}</h3>"
        )
        if "manual_evidence" in item:
            evidence = item["manual_evidence"]
            artefact = (
                f" Artefact: <code>{e(evidence['artefact'])}</code>."
                if evidence["artefact"]
                else " Artefact: none in the repository yet."
            )
            lead = "" if item["status"] == "manual" else "Stays with people: "
            parts.append(f"<p>{lead}{e(evidence['description'])}.{artefact}</p>")
            if item["status"] == "manual" and not item["evidence"]:
                continue
        rows = [
            f"<tr><td>{e(result)}</td><td><code>{e(check)}</code></td>"
            f"<td>{e(resource)}</td><td><code>{e(where)}</code></td></tr>"
            for result, check, resource, where in _evidence_rows(item)
        ]
        if rows:
            parts.append(
                "<table><tr><th>Result</th><th>Check</th><th>Resource</th><th>Where</th></tr>"
                + "".join(rows)
                + "</table>"
            )
        else:
            parts.append("<p>No resource in scope of its checks.</p>")
    if outcome.errors:
        parts.append("<h2>Scan errors</h2><ul>")
        parts += [f"<li>{e(x)}</li>" for x in outcome.errors]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
