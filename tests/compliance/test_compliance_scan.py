"""The scan's exit status, exceptions and report formats, on small throw-away configurations."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

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
    assert set(document) == {"scanned", "requirements", "summary"}
    assert document["scanned"] == [str(reports.parent / "mixed")]
    for requirement in document["requirements"]:
        assert set(requirement) == {"id", "title", "status", "checks", "failures"}
        assert requirement["status"] in {"pass", "fail", "manual"}
        for failure in requirement["failures"]:
            assert set(failure) == {"check_id", "resource", "file"}
            assert failure["check_id"] in requirement["checks"]
        assert (requirement["status"] == "fail") == bool(requirement["failures"])
    statuses = [r["status"] for r in document["requirements"]]
    assert document["summary"] == {
        "passed": statuses.count("pass"),
        "failed": statuses.count("fail"),
        "manual": statuses.count("manual"),
    }
    by_id = {r["id"]: r for r in document["requirements"]}
    assert by_id["3.7.4"]["status"] == "fail"
    assert {f["resource"] for f in by_id["3.7.4"]["failures"]} == {"aws_kms_key.bad"}
    assert by_id["3.6.1"]["failures"] == [
        {
            "check_id": "CKV2_PCI_002",
            "resource": "aws_kms_key.bad",
            "file": by_id["3.6.1"]["failures"][0]["file"],
        }
    ]


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
    assert "| Requirement | Title | Status | Results | Checks | Failures |" in text
    assert "█" in text
    assert "Verdict: **FAIL**" in text


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
