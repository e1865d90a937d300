"""Every custom policy against its fixture folder: exact sets of passing and failing resources.

``tests/policies/fixtures/<CHECK_ID>/`` holds Terraform whose resources are named for the
outcome (``pass_*``, ``fail_*``); any other resource of a checked type must get no result.
Checkov runs once per session over all folders (one root each, so they cannot see each other).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compliance.engine import Finding, ScanResult, run_checkov
from compliance.register import custom_policies

FIXTURES = Path(__file__).parent / "fixtures"
RESOURCE = re.compile(r'^resource\s+"(\w+)"\s+"((?:pass|fail)_\w+)"', re.MULTILINE)
CHECK_FOLDERS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


@pytest.fixture(scope="session")
def fixture_scan() -> ScanResult:
    return run_checkov([FIXTURES], checks=sorted(custom_policies()))


def expected(check_id: str) -> tuple[set[str], set[str]]:
    passed: set[str] = set()
    failed: set[str] = set()
    for tf in (FIXTURES / check_id).rglob("*.tf"):
        for rtype, name in RESOURCE.findall(tf.read_text()):
            (passed if name.startswith("pass_") else failed).add(f"{rtype}.{name}")
    return passed, failed


def actual(scan: ScanResult, check_id: str) -> tuple[set[str], set[str]]:
    folder = f"tests/policies/fixtures/{check_id}/"

    def of(result: str) -> set[str]:
        mine: list[Finding] = [
            f for f in scan.findings if f.check_id == check_id and f.file.startswith(folder)
        ]
        return {f.resource for f in mine if f.result == result}

    return of("passed"), of("failed")


def test_every_custom_policy_has_a_fixture_folder() -> None:
    assert sorted(custom_policies()) == CHECK_FOLDERS


@pytest.mark.parametrize("check_id", CHECK_FOLDERS)
def test_policy_fixture(fixture_scan: ScanResult, check_id: str) -> None:
    want_pass, want_fail = expected(check_id)
    assert want_pass, "a fixture needs at least one pass_ resource"
    assert want_fail, "a fixture needs at least one fail_ resource"
    got_pass, got_fail = actual(fixture_scan, check_id)
    assert (got_pass, got_fail) == (want_pass, want_fail)


def test_fixture_scan_has_no_errors(fixture_scan: ScanResult) -> None:
    assert fixture_scan.parsing_errors == []
