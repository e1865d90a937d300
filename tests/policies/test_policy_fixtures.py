"""Every custom policy against its fixture folder: exact sets of passing and failing resources.

``tests/policies/fixtures/<CHECK_ID>/`` holds Terraform whose resources (or module calls) are
named for the outcome (``pass_*``, ``fail_*``, ``unresolved_*`` for an in-scope resource the HCL
scan cannot evaluate and must report as such); any other resource must get no result.
Checkov runs once per session over all folders (one root each, so they cannot see each other).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compliance.engine import Finding, ScanResult, run_checkov
from compliance.register import custom_policies

FIXTURES = Path(__file__).parent / "fixtures"
RESOURCE = re.compile(r'^resource\s+"(\w+)"\s+"((?:pass|fail|unresolved)_\w+)"', re.MULTILINE)
MODULE = re.compile(r'^module\s+"((?:pass|fail|unresolved)_\w+)"', re.MULTILINE)
OUTCOMES = ("pass", "fail", "unresolved")
CHECK_FOLDERS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


@pytest.fixture(scope="session")
def fixture_scan() -> ScanResult:
    return run_checkov([FIXTURES], checks=sorted(custom_policies()))


def expected(check_id: str) -> dict[str, set[str]]:
    sets: dict[str, set[str]] = {outcome: set() for outcome in OUTCOMES}
    for tf in (FIXTURES / check_id).rglob("*.tf"):
        text = tf.read_text()
        for rtype, name in RESOURCE.findall(text):
            sets[name.split("_", 1)[0]].add(f"{rtype}.{name}")
        for name in MODULE.findall(text):
            sets[name.split("_", 1)[0]].add(f"module.{name}")
    return sets


def subject(address: str) -> str:
    """The fixture name a result belongs to: ``module.fail_x`` for anything inside that module
    call, else the resource address."""
    parts = address.split(".")
    for i, part in enumerate(parts[:-1]):
        if part == "module" and parts[i + 1].startswith(tuple(f"{o}_" for o in OUTCOMES)):
            return f"module.{parts[i + 1].split('[')[0]}"
    return address


def actual(scan: ScanResult, check_id: str) -> dict[str, set[str]]:
    folder = f"tests/policies/fixtures/{check_id}/"
    mine: list[Finding] = [
        f for f in scan.findings if f.check_id == check_id and f.file.startswith(folder)
    ]
    return {
        "pass": {subject(f.resource) for f in mine if f.result == "passed"},
        "fail": {subject(f.resource) for f in mine if f.result == "failed"},
        "unresolved": {
            subject(u.resource)
            for u in scan.unresolved
            if u.check_id == check_id and u.file.startswith(folder)
        },
    }


def test_every_custom_policy_has_a_fixture_folder() -> None:
    assert sorted(custom_policies()) == CHECK_FOLDERS


@pytest.mark.parametrize("check_id", CHECK_FOLDERS)
def test_policy_fixture(fixture_scan: ScanResult, check_id: str) -> None:
    want = expected(check_id)
    assert want["pass"], "a fixture needs at least one pass_ resource"
    assert want["fail"], "a fixture needs at least one fail_ resource"
    assert actual(fixture_scan, check_id) == want


def test_fixture_scan_has_no_errors(fixture_scan: ScanResult) -> None:
    assert fixture_scan.parsing_errors == []
