"""The scan's exit status, exceptions and report formats, on small throw-away configurations."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from compliance import scan
from compliance.reports import REPORT_NAMES

PROVIDER = """
provider "aws" {
  region = "eu-west-1"
  default_tags {
    tags = {
      DataClass = "key-material", PCIScope = "cde", Owner = "security", Environment = "test"
    }
  }
}
"""
GOOD_KEY = """
resource "aws_kms_key" "good" {
  description         = "compliant key"
  enable_key_rotation = true
}
"""
BAD_KEY = """
resource "aws_kms_key" "bad" {
  description             = "no rotation, short deletion window"
  deletion_window_in_days = 7
}
"""


def terraform(tmp_path: Path, name: str, *blocks: str) -> Path:
    directory = tmp_path / name
    directory.mkdir()
    (directory / "main.tf").write_text("\n".join([PROVIDER, *blocks]))
    return directory


def register(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "exceptions.yaml"
    path.write_text("exceptions:\n" + "".join(f"  - {e}\n" for e in entries))
    return path


def run(directory: Path, out: Path, exceptions: Path) -> int:
    return scan.main(["--scan", str(directory), "--out", str(out), "--exceptions", str(exceptions)])


def test_clean_configuration_passes(tmp_path: Path) -> None:
    good = terraform(tmp_path, "good", GOOD_KEY)
    assert run(good, tmp_path / "out", register(tmp_path)) == 0


def test_expired_exception_fails_the_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = terraform(tmp_path, "good", GOOD_KEY)
    expired = register(
        tmp_path,
        "{check: CKV_AWS_7, resource: '*', justification: legacy key, owner: sec, "
        "expires: '2020-01-01'}",
    )
    assert run(good, tmp_path / "out", expired) == 1
    assert "EXPIRED exception CKV_AWS_7" in capsys.readouterr().out


def test_resource_exception_turns_failures_into_reported_skips(tmp_path: Path) -> None:
    bad = terraform(tmp_path, "bad", BAD_KEY)
    out = tmp_path / "out"
    assert run(bad, out, register(tmp_path)) == 1
    entries = [
        f"{{check: {check}, resource: aws_kms_key.bad, justification: migration, owner: sec, "
        "expires: '2099-01-01'}"
        for check in ("CKV_PCI_002", "CKV_AWS_7", "CKV2_PCI_002")
    ]
    assert run(bad, out, register(tmp_path, *entries)) == 0
    sarif = json.loads((out / REPORT_NAMES["sarif"]).read_text())
    suppressed = [r for r in sarif["runs"][0]["results"] if r.get("suppressions")]
    assert {r["ruleId"] for r in suppressed} == {"CKV_PCI_002", "CKV_AWS_7", "CKV2_PCI_002"}
    assert "migration" in (out / REPORT_NAMES["markdown"]).read_text()


def test_an_exception_scoped_to_a_root_holds_there_only(tmp_path: Path) -> None:
    bad = terraform(tmp_path, "bad", BAD_KEY)
    out = tmp_path / "out"
    entries = [
        f"{{check: {check}, resource: aws_kms_key.bad, root: '{root}', justification: "
        "emulator only, owner: sec, expires: '2099-01-01'}"
        for check in ("CKV_PCI_002", "CKV_AWS_7", "CKV2_PCI_002")
        for root in ("*/elsewhere",)
    ]
    assert run(bad, out, register(tmp_path, *entries)) == 1
    scoped = [entry.replace("*/elsewhere", "*bad") for entry in entries]
    assert run(bad, out, register(tmp_path, *scoped)) == 0


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("reports")
    bad = terraform(tmp_path, "mixed", GOOD_KEY, BAD_KEY)
    out = tmp_path / "out"
    assert run(bad, out, register(tmp_path)) == 1
    return out


def test_json_report_shape(reports: Path) -> None:
    document = json.loads((reports / REPORT_NAMES["json"]).read_text())
    assert set(document) == {
        "scanned",
        "commit",
        "generated_at",
        "tool_versions",
        "standard",
        "requirements",
        "summary",
    }
    assert document["scanned"] == [str(reports.parent / "mixed")]
    for requirement in document["requirements"]:
        assert requirement["status"] in {
            "pass",
            "fail",
            "unresolved",
            "excepted",
            "not_applicable",
            "manual",
        }
        for failure in requirement["failures"]:
            assert set(failure) == {"check_id", "resource", "file", "line"}
            assert failure["check_id"] in requirement["checks"]
        assert (requirement["status"] == "fail") == bool(requirement["failures"])
        # a pass stands on at least one evaluated resource; no evidence, no pass
        if requirement["status"] == "pass":
            assert any(e["result"] == "pass" for e in requirement["evidence"])
        if requirement["status"] == "not_applicable":
            assert requirement["evidence"] == [] and requirement["unresolved"] == []
        if requirement["status"] == "manual":
            assert requirement["manual_evidence"]["description"]
    statuses = [r["status"] for r in document["requirements"]]
    assert document["summary"] == {
        "passed": statuses.count("pass"),
        "failed": statuses.count("fail"),
        "unresolved": statuses.count("unresolved"),
        "excepted": statuses.count("excepted"),
        "not_applicable": statuses.count("not_applicable"),
        "manual": statuses.count("manual"),
        "verdict": "FAIL",
    }
    by_id = {r["id"]: r for r in document["requirements"]}
    assert by_id["3.7.4"]["status"] == "fail"
    assert {f["resource"] for f in by_id["3.7.4"]["failures"]} == {"aws_kms_key.bad"}
    failure = by_id["3.6.1"]["failures"][0]
    assert (failure["check_id"], failure["resource"]) == ("CKV2_PCI_002", "aws_kms_key.bad")
    # each result names the resource and the line it is declared on
    text = (reports.parent / "mixed" / "main.tf").read_text().splitlines()
    evidence = {(e["check_id"], e["resource"]): e for e in by_id["3.7.4"]["evidence"]}
    good = evidence[("CKV_PCI_002", "aws_kms_key.good")]
    assert good["result"] == "pass" and good["file"].endswith("mixed/main.tf")
    assert text[good["line"] - 1] == 'resource "aws_kms_key" "good" {'


def test_a_scan_of_keys_alone_does_not_pass_what_it_never_saw(reports: Path) -> None:
    """Issue 16: a scan of KMS keys said WAF, audit logs and TLS passed. They are not
    applicable there, and the summary counts them as such."""
    document = json.loads((reports / REPORT_NAMES["json"]).read_text())
    by_id = {r["id"]: r for r in document["requirements"]}
    for requirement in ("6.4.2", "10.5.1", "4.2.1", "1.4.4"):
        assert by_id[requirement]["status"] == "not_applicable", requirement
    assert by_id["3.5.1.1"]["status"] in {"pass", "not_applicable"}
    assert document["summary"]["not_applicable"] >= 4
    markdown = (reports / REPORT_NAMES["markdown"]).read_text()
    assert re.search(r"\| \[6\.4\.2\]\(#req-6-4-2\) \| .* \| ⚪ not applicable \| 0 \|", markdown)


def test_every_report_carries_commit_time_versions_and_scope(reports: Path) -> None:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    checkov = metadata.version("checkov")
    document = json.loads((reports / REPORT_NAMES["json"]).read_text())
    assert document["commit"].split("+")[0] == head
    assert document["generated_at"].endswith("+00:00")
    assert document["tool_versions"]["checkov"] == checkov
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{12}", document["tool_versions"]["policies"])

    sarif = json.loads((reports / REPORT_NAMES["sarif"]).read_text())["runs"][0]
    assert sarif["tool"]["driver"]["version"] == checkov
    assert (
        sarif["tool"]["driver"]["properties"]["policies_version"]
        == (document["tool_versions"]["policies"])
    )
    assert sarif["properties"]["commit"] == document["commit"]
    assert sarif["properties"]["scanned"] == document["scanned"]

    root = ET.parse(reports / REPORT_NAMES["junit"]).getroot()  # noqa: S314  (our own file)
    properties = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert properties["commit"] == document["commit"]
    assert properties["version.checkov"] == checkov

    for kind in ("markdown", "html"):
        text = (reports / REPORT_NAMES[kind]).read_text()
        for value in (document["commit"], checkov, document["tool_versions"]["policies"]):
            assert value in text, (kind, value)
        assert document["scanned"][0] in text


def test_html_report_is_self_contained_with_its_chart(reports: Path) -> None:
    text = (reports / REPORT_NAMES["html"]).read_text()
    assert text.startswith("<!doctype html>")
    assert "<svg" in text and "<rect" in text
    assert not re.search(r"(src|href)=\"https?://", text), "no external assets"
    assert "aws_kms_key.bad" in text and "CKV_PCI_002" in text


def test_sarif_report_basics(reports: Path) -> None:
    sarif = json.loads((reports / REPORT_NAMES["sarif"]).read_text())
    assert sarif["version"] == "2.1.0"
    run_ = sarif["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert run_["results"]
    for result in run_["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in {"error", "warning", "note"}
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].endswith("main.tf")
        assert location["region"]["startLine"] >= 1


def test_junit_report_parses(reports: Path) -> None:
    root = ET.parse(reports / REPORT_NAMES["junit"]).getroot()  # noqa: S314  (our own file)
    assert root.tag == "testsuites"
    failures = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert int(root.get("failures", "0")) == len(failures) > 0
    assert any("aws_kms_key.bad" in (c.get("name") or "") for c in failures)


def test_markdown_report_has_table_and_chart(reports: Path) -> None:
    text = (reports / REPORT_NAMES["markdown"]).read_text()
    assert (
        "| Requirement | Title | Status | Evaluated | Failed | Excepted | Unresolved | Checks |"
        in text
    )
    assert "█" in text
    assert "- Verdict: `FAIL`" in text
    # the failure is listed under its requirement with file:line
    assert re.search(r"\| fail \| `CKV_PCI_002` \| aws_kms_key.bad \| .*mixed/main.tf:\d+ \|", text)


FUNCTION_MODULE = (
    Path(__file__).parents[1] / "policies" / "fixtures" / "CKV_PCI_010" / "module_statements"
)
CALLER = """
module "payments" {
  source            = "./function"
  name              = "payments"
  policy_statements = local.statements
}
locals {
  table      = "arn:aws:dynamodb:eu-west-1:123456789012:table/t"
  statements = [{ sid = "Read", actions = [%s], resources = [local.table] }]
}
"""


def _caller(tmp_path: Path, name: str, actions: str) -> Path:
    directory = terraform(tmp_path, name, CALLER % actions)
    shutil.copytree(FUNCTION_MODULE / "function", directory / "function")
    return directory


def test_what_the_hcl_scan_cannot_evaluate_is_not_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 16: a role policy built inside a module is not rendered by checkov; its
    statements from the caller are judged, the rest is reported, the requirement is not a pass."""
    scoped = _caller(tmp_path, "scoped", '"dynamodb:GetItem"')
    out = tmp_path / "out"
    exceptions = register(tmp_path)
    assert run(scoped, out, exceptions) == 0
    document = json.loads((out / REPORT_NAMES["json"]).read_text())
    requirement = next(r for r in document["requirements"] if r["id"] == "7.2.2")
    assert requirement["status"] == "unresolved"
    assert {(u["check_id"], u["resource"]) for u in requirement["unresolved"]} >= {
        ("CKV_PCI_010", "module.payments.aws_iam_role_policy.this")
    }
    assert document["summary"]["verdict"] == "INCOMPLETE"
    assert "NOT EVALUATED CKV_PCI_010 module.payments.aws_iam_role_policy.this" in (
        capsys.readouterr().out
    )
    strict = ["--scan", str(scoped), "--out", str(out), "--exceptions", str(exceptions)]
    assert scan.main([*strict, "--require-resolved"]) == 1


def test_a_wildcard_passed_through_a_module_input_fails(tmp_path: Path) -> None:
    """Issue 16's example: dynamodb:* in a statement a module passes to the function module."""
    wildcard = _caller(tmp_path, "wildcard", '"dynamodb:GetItem", "dynamodb:*"')
    out = tmp_path / "out"
    assert run(wildcard, out, register(tmp_path)) == 1
    document = json.loads((out / REPORT_NAMES["json"]).read_text())
    requirement = next(r for r in document["requirements"] if r["id"] == "7.2.2")
    assert requirement["status"] == "fail"
    assert requirement["failures"][0]["resource"] == "module.payments.aws_iam_role_policy.this"


# `terraform show -json` of a plan of fixtures/plan_main.tf.txt
PLAN = Path(__file__).parent / "fixtures" / "plan.json"


def test_plan_json_is_scanned_with_resolved_default_tags() -> None:
    from compliance.engine import run_checkov
    from compliance.register import custom_policies

    result = run_checkov([], [PLAN], checks=sorted(custom_policies()))
    outcome = {(f.check_id, f.resource): f.result for f in result.findings}
    # default_tags reach every resource through tags_all: the inventory tags are all there
    assert outcome[("CKV_PCI_018", "aws_sqs_queue.q")] == "passed"
    # ...and so does DataClass = cardholder-data: the queue and the table need a CMK
    assert outcome[("CKV_PCI_001", "aws_sqs_queue.q")] == "failed"
    assert outcome[("CKV_PCI_001", "aws_dynamodb_table.vault")] == "failed"
    # the bucket's SSE-KMS configuration is a separate resource, found through the plan graph
    assert outcome[("CKV_PCI_001", "aws_s3_bucket.lake")] == "passed"
    assert outcome[("CKV_PCI_004", "aws_dynamodb_table.vault")] == "failed"


FOREIGN = Path(__file__).parent / "fixtures" / "foreign"


def test_terraform_without_our_tags_still_gets_its_pci_problems_flagged(tmp_path: Path) -> None:
    """Issue 16: applicability comes from tags, and an unclassified resource in a root is in
    scope until its tags say otherwise, so Terraform that knows nothing of our tags is judged."""
    out = tmp_path / "out"
    assert run(FOREIGN, out, register(tmp_path)) == 1
    document = json.loads((out / REPORT_NAMES["json"]).read_text())
    failed = {
        (f["check_id"], f["resource"]) for r in document["requirements"] for f in r["failures"]
    }
    assert {
        ("CKV_PCI_001", "aws_dynamodb_table.orders"),  # 3.5.1: no customer-managed key
        ("CKV_PCI_002", "aws_kms_key.main"),  # 3.7.4: never rotated
        ("CKV_PCI_006", "aws_s3_bucket.exports"),  # 4.2.1: plain HTTP allowed
        ("CKV2_PCI_003", "aws_cloudwatch_log_group.app"),  # 10.5.1: 30 days of logs
        ("CKV_PCI_010", "aws_iam_policy.app"),  # 7.2.2: dynamodb:*
        ("CKV_PCI_007", "aws_lambda_function.worker"),  # 1.4.4: outside any VPC
        ("CKV_PCI_021", "aws_lambda_function.worker"),  # 3.3.1: a DLQ keeps the event
        ("CKV_PCI_028", "aws_api_gateway_rest_api.checkout"),  # 4.2.1: TLS 1.0 endpoint
    } <= failed


# A `terraform show -json` plan of a caller of a lambda_function-like module (the
# module_statements fixture of CKV_PCI_010), reduced to the role policy Terraform rendered.
MODULE_POLICY_PLAN = Path(__file__).parent / "fixtures" / "plan_module_policy.json"


def test_the_plan_scan_judges_what_the_hcl_scan_left_unresolved() -> None:
    """Issue 16: in the plan the whole policy is rendered: the wildcard fails, nothing is
    left unresolved."""
    from compliance.engine import run_checkov

    result = run_checkov([], [MODULE_POLICY_PLAN], checks=["CKV_PCI_010", "CKV_PCI_022"])
    outcome = {(f.check_id, f.resource): f.result for f in result.findings}
    assert outcome == {("CKV_PCI_010", "module.payments.aws_iam_role_policy.this"): "failed"}
    assert result.unresolved == []


LOG_GROUP_MODULE = """
variable "retention_in_days" {
  type = number
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "payments"
  retention_in_days = var.retention_in_days
  kms_key_id        = "arn:aws:kms:eu-west-1:111122223333:key/1234"
}
"""


def test_checkovs_own_unknown_is_reported_not_passed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 16: checkov's own checks (CKV_AWS_338, and the YAML graph check CKV2_PCI_003) answer
    UNKNOWN for a retention they cannot resolve, and checkov drops such results from its
    reports. Scanned alone, the module's log group is reported not evaluated, so 10.5.1 is not
    a pass; called from a root that passes 400 days, it is judged and passes."""
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text(LOG_GROUP_MODULE)
    out = tmp_path / "out"
    exceptions = register(tmp_path)
    assert run(module, out, exceptions) == 0
    document = json.loads((out / REPORT_NAMES["json"]).read_text())
    requirement = next(r for r in document["requirements"] if r["id"] == "10.5.1")
    assert requirement["status"] == "unresolved"
    unresolved = {(u["check_id"], u["resource"]) for u in requirement["unresolved"]}
    assert unresolved == {
        ("CKV_AWS_338", "aws_cloudwatch_log_group.this"),
        ("CKV2_PCI_003", "aws_cloudwatch_log_group.this"),
    }
    printed = capsys.readouterr().out
    assert "NOT EVALUATED CKV_AWS_338 aws_cloudwatch_log_group.this" in printed
    assert "NOT EVALUATED CKV2_PCI_003 aws_cloudwatch_log_group.this" in printed

    root = terraform(
        tmp_path,
        "root",
        'module "logs" {\n  source = "../module"\n  retention_in_days = 400\n}\n',
    )
    assert run(root, out, exceptions) == 0
    document = json.loads((out / REPORT_NAMES["json"]).read_text())
    requirement = next(r for r in document["requirements"] if r["id"] == "10.5.1")
    assert requirement["status"] == "pass", requirement
    assert requirement["unresolved"] == []


def test_a_manual_requirement_fails_on_its_supporting_checks_and_never_passes(
    tmp_path: Path,
) -> None:
    """A check listed under a manual requirement supports its artefact: a failure fails the
    requirement, a pass leaves it manual (a rotated key is not a key-management procedure)."""
    (tmp_path / "compliance").mkdir()
    (tmp_path / "modules" / "kms").mkdir(parents=True)
    (tmp_path / "procedure.md").write_text("# key management\n")
    mapping = tmp_path / "compliance" / "mapping.yaml"
    mapping.write_text(
        "requirements:\n"
        "  - {id: '3.7.4', title: keys changed, automation: manual, evidence: procedure,"
        " artefact: procedure.md, controls: [{id: K, description: rotation,"
        " checks: [CKV_PCI_002], modules: [kms]}]}\n"
    )

    def status(directory: Path) -> tuple[int, Any]:
        out = tmp_path / "out"
        code = scan.main(
            [
                "--scan",
                str(directory),
                "--out",
                str(out),
                "--mapping",
                str(mapping),
                "--exceptions",
                str(register(tmp_path)),
            ]
        )
        document = json.loads((out / REPORT_NAMES["json"]).read_text())
        return code, document["requirements"][0]

    code, requirement = status(terraform(tmp_path, "bad", BAD_KEY))
    assert (code, requirement["status"]) == (1, "fail")
    assert requirement["failures"][0]["resource"] == "aws_kms_key.bad"
    code, requirement = status(terraform(tmp_path, "good", GOOD_KEY))
    assert (code, requirement["status"]) == (0, "manual")
    assert requirement["evidence"][0]["result"] == "pass"
    assert requirement["manual_evidence"]["artefact"] == "procedure.md"


HMAC_KEY = """
resource "aws_kms_key" "fingerprint" {
  description              = "fingerprints"
  customer_master_key_spec = "HMAC_256"
  key_usage                = "GENERATE_VERIFY_MAC"
  enable_key_rotation      = false
}
"""


def test_checkovs_unknown_on_a_resolved_value_is_its_not_applicable(tmp_path: Path) -> None:
    """CKV_AWS_7 answers UNKNOWN for an HMAC key, whose rotation KMS does not automate, with
    every value resolved: the resource is outside the check, not a value it could not read, so
    it is not listed as not evaluated (the applied local plan's HMAC keys were)."""
    out = tmp_path / "out"
    assert run(terraform(tmp_path, "hmac", HMAC_KEY), out, register(tmp_path)) == 0
    document = json.loads((out / REPORT_NAMES["json"]).read_text())
    unresolved = [u for r in document["requirements"] for u in r["unresolved"]]
    assert not [u for u in unresolved if u["check_id"] == "CKV_AWS_7"], unresolved


def test_the_plan_gate_fails_on_what_a_plan_left_unevaluated_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--require-resolved-plans: a resource of a plan JSON that a check could not evaluate fails
    the scan (a plan of an applied environment renders every value); one the HCL scan of a
    directory could not evaluate stays advisory; and a gate with no plan to gate on fails."""
    from compliance.engine import Unresolved
    from compliance.register import load_mapping
    from compliance.reports import Outcome

    directory = terraform(tmp_path, "env", GOOD_KEY)
    plan = tmp_path / "tfplan.json"
    plan.write_text("{}")
    where: dict[str, str] = {}

    def fake_scan(directories: object, plans: object, **_: object) -> Outcome:
        gap = Unresolved(
            "CKV_PCI_010", "n", "aws_iam_policy.p", "main.tf", (1, 2), where["scanned"], "r"
        )
        return Outcome(mapping=load_mapping(), scanned=[], findings=[], unresolved=[gap])

    monkeypatch.setattr(scan, "scan", fake_scan)
    args = ["--scan", str(directory), "--out", str(tmp_path / "out"), "--require-resolved-plans"]
    where["scanned"] = str(directory)
    assert scan.main([*args, "--plan-json", str(plan)]) == 0
    document = json.loads((tmp_path / "out" / REPORT_NAMES["json"]).read_text())
    assert document["summary"]["gate"] == {
        "plans": [str(plan)],
        "not_evaluated": 0,
        "verdict": "PASS",
    }
    assert document["summary"]["verdict"] == "INCOMPLETE"  # the HCL's gap, reported
    where["scanned"] = str(plan)
    assert scan.main([*args, "--plan-json", str(plan)]) == 1
    assert "gate: FAIL, 1 in-scope resources" in capsys.readouterr().out
    markdown = (tmp_path / "out" / REPORT_NAMES["markdown"]).read_text()
    assert "Gate (plan JSON)" in markdown and "FAIL: 1 in scope not evaluated" in markdown
    assert scan.main(args) == 1
    assert "no plan JSON was scanned" in capsys.readouterr().out


# ------------------------------------------------------------------ met by exceptions only

KEY_EXCEPTIONS = [
    f"{{check: {check}, resource: aws_kms_key.bad, justification: legacy key under migration, "
    "owner: key-custodians, expires: '2099-01-01'}"
    for check in ("CKV_PCI_002", "CKV_AWS_7", "CKV2_PCI_002")
]
INLINE_SKIPPED_KEY = """
resource "aws_kms_key" "skipped" {
  #checkov:skip=CKV_PCI_002:imported key, rotated by its owner outside AWS
  #checkov:skip=CKV_AWS_7:imported key, rotated by its owner outside AWS
  description             = "imported key material"
  deletion_window_in_days = 30
}
"""


def _scan_reports(tmp_path: Path, name: str, *blocks: str) -> tuple[int, Path]:
    out = tmp_path / f"{name}-out"
    code = run(terraform(tmp_path, name, *blocks), out, register(tmp_path, *KEY_EXCEPTIONS))
    return code, out


def _requirements(out: Path) -> dict[str, Any]:
    document = json.loads((out / REPORT_NAMES["json"]).read_text())
    return {r["id"]: r for r in document["requirements"]}


@pytest.fixture(scope="module")
def excepted_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The non-compliant key alone, every failure of it in the register."""
    code, out = _scan_reports(tmp_path_factory.mktemp("excepted"), "excepted", BAD_KEY)
    assert code == 0
    return out


def test_a_requirement_met_by_exceptions_only_is_excepted_not_passed(
    excepted_only: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 16: 6.3.1 and 10.7.2 in the local plan read `pass` with every resource excepted."""
    document = json.loads((excepted_only / REPORT_NAMES["json"]).read_text())
    by_id = {r["id"]: r for r in document["requirements"]}
    requirement = by_id["3.7.4"]
    assert requirement["status"] == "excepted"
    assert {e["result"] for e in requirement["evidence"]} == {"excepted"}
    assert {(x["check_id"], x["resource"]) for x in requirement["exceptions"]} == {
        ("CKV_PCI_002", "aws_kms_key.bad"),
        ("CKV_AWS_7", "aws_kms_key.bad"),
    }
    exception = requirement["exceptions"][0]
    assert (exception["source"], exception["owner"], exception["expires"]) == (
        "register",
        "key-custodians",
        "2099-01-01",
    )
    assert exception["justification"] == "legacy key under migration"
    statuses = [r["status"] for r in document["requirements"]]
    summary = document["summary"]
    assert summary["excepted"] == statuses.count("excepted") >= 1
    assert summary["passed"] == statuses.count("pass")
    # still a PASS for the exit status (the register is how a gap is accepted), but it says so
    assert summary["verdict"] == "PASS"
    markdown = (excepted_only / REPORT_NAMES["markdown"]).read_text()
    assert "- Verdict: `PASS (" in markdown and "met by exceptions only: " in markdown
    assert "3.7.4" in markdown.split("- Verdict: ")[1].splitlines()[0]


def test_an_excepted_requirement_reads_so_in_every_report(excepted_only: Path) -> None:
    sarif = json.loads((excepted_only / REPORT_NAMES["sarif"]).read_text())["runs"][0]
    statuses = {r["id"]: r["status"] for r in sarif["properties"]["requirements"]}
    assert statuses["3.7.4"] == "excepted"
    assert sarif["properties"]["summary"]["excepted"] >= 1
    suppressed = [r for r in sarif["results"] if r["ruleId"] == "CKV_PCI_002"]
    assert suppressed and all(r["suppressions"][0]["kind"] == "external" for r in suppressed)

    root = ET.parse(excepted_only / REPORT_NAMES["junit"]).getroot()  # noqa: S314  (ours)
    suite = next(s for s in root.iter("testsuite") if (s.get("name") or "").startswith("3.7.4 "))
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["status"] == "excepted"
    cases = list(suite.iter("testcase"))
    assert cases and all(c.find("skipped") is not None for c in cases)
    assert suite.get("failures") == "0" and suite.get("skipped") == str(len(cases))
    message = str(cases[0].find("skipped").get("message"))  # type: ignore[union-attr]
    assert "key-custodians" in message and "2099-01-01" in message

    markdown = (excepted_only / REPORT_NAMES["markdown"]).read_text()
    assert re.search(
        r"\| \[3\.7\.4\]\(#req-3-7-4\) \| .* \| 🟨 excepted \| 2 \| 0 \| 2 \|", markdown
    )
    assert re.search(
        r"\| excepted \(register: key-custodians, expires 2099-01-01\) \| `CKV_PCI_002` "
        r"\| aws_kms_key.bad \| .*main.tf:\d+: legacy key under migration \|",
        markdown,
    )
    page = (excepted_only / REPORT_NAMES["html"]).read_text()
    assert re.search(r'id="req-3.7.4">3.7.4 [^<]*<span class="status"[^>]*>excepted</span>', page)
    assert re.search(r"<title>excepted: \d+</title>", page)


def test_one_real_pass_keeps_the_requirement_passing_with_its_exceptions_listed(
    tmp_path: Path,
) -> None:
    code, out = _scan_reports(tmp_path, "mixed", GOOD_KEY, BAD_KEY)
    assert code == 0
    requirement = _requirements(out)["3.7.4"]
    assert requirement["status"] == "pass"
    assert {(x["check_id"], x["resource"]) for x in requirement["exceptions"]} == {
        ("CKV_PCI_002", "aws_kms_key.bad"),
        ("CKV_AWS_7", "aws_kms_key.bad"),
    }
    assert ("CKV_PCI_002", "aws_kms_key.good", "pass") in {
        (e["check_id"], e["resource"], e["result"]) for e in requirement["evidence"]
    }
    assert "met by exceptions only" not in (out / REPORT_NAMES["markdown"]).read_text()


def test_skips_written_in_the_code_are_exceptions_too(tmp_path: Path) -> None:
    """A `checkov:skip` has a reason but no owner or expiry; it cannot make a pass either, and
    every report names it as an exception of the code."""
    code, out = _scan_reports(tmp_path, "inline", INLINE_SKIPPED_KEY)
    assert code == 0
    requirement = _requirements(out)["3.7.4"]
    assert requirement["status"] == "excepted"
    assert {(x["source"], x["owner"], x["expires"]) for x in requirement["exceptions"]} == {
        ("inline", None, None)
    }
    assert requirement["exceptions"][0]["justification"] == (
        "imported key, rotated by its owner outside AWS"
    )
    sarif = json.loads((out / REPORT_NAMES["sarif"]).read_text())["runs"][0]
    kinds = {r["ruleId"]: r["suppressions"][0]["kind"] for r in sarif["results"]}
    assert kinds["CKV_PCI_002"] == "inSource"
    markdown = (out / REPORT_NAMES["markdown"]).read_text()
    assert "| excepted (checkov:skip in the code, no expiry) | `CKV_PCI_002` |" in markdown
    assert re.search(
        r"\| CKV_PCI_002 \| aws_kms_key.skipped .*\| checkov:skip in the code \|", markdown
    )


def test_an_exception_for_every_resource_still_shows_what_it_excepts(tmp_path: Path) -> None:
    """A `resource: "*"` entry used to reach checkov as a skipped check, which leaves no result:
    a requirement resting on that check read not_applicable although a resource in scope
    failed it. Its results are excepted after the run like any other entry's."""
    (tmp_path / "compliance").mkdir()
    (tmp_path / "modules" / "kms").mkdir(parents=True)
    mapping = tmp_path / "compliance" / "mapping.yaml"
    mapping.write_text(
        "requirements:\n"
        "  - {id: '3.7.4', title: keys changed, automation: automated, controls: [{id: K,"
        " description: rotation, checks: [CKV_AWS_7], modules: [kms]}]}\n"
    )
    everywhere = register(
        tmp_path,
        "{check: CKV_AWS_7, resource: '*', justification: keys rotated by hand, owner: sec, "
        "expires: '2099-01-01'}",
    )
    out = tmp_path / "out"
    args = ["--out", str(out), "--mapping", str(mapping), "--exceptions", str(everywhere)]
    assert scan.main(["--scan", str(terraform(tmp_path, "bad", BAD_KEY)), *args]) == 0
    requirement = _requirements(out)["3.7.4"]
    assert requirement["status"] == "excepted"
    assert [(x["resource"], x["justification"]) for x in requirement["exceptions"]] == [
        ("aws_kms_key.bad", "keys rotated by hand")
    ]
    # a resource that meets the check is still its evidence
    assert scan.main(["--scan", str(terraform(tmp_path, "good", GOOD_KEY)), *args]) == 0
    assert _requirements(out)["3.7.4"]["status"] == "pass"
