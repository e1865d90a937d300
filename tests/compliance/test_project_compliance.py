"""The blueprint's own modules and environments pass the PCI DSS scan.

One test per scanned directory, so that the parallel test workers share the scan (checkov
renders each environment's modules on its own, so nothing is gained by scanning them together).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance import scan

DIRECTORIES = scan.default_directories()


def test_modules_and_environments_are_scanned() -> None:
    names = {d.name for d in DIRECTORIES}
    assert "modules" in names and {"dev", "prod"} <= names, names


@pytest.mark.parametrize("directory", DIRECTORIES, ids=lambda d: d.name)
def test_the_directory_passes_the_scan(directory: Path) -> None:
    outcome = scan.scan([directory])
    problems = [
        f"{f.check_id} {f.resource} ({f.file}:{f.lines[0]}) {'; '.join(f.details)}"
        for f in outcome.failures
    ]
    problems += [f"expired exception {e.check} {e.resource}" for e in outcome.expired]
    problems += outcome.errors
    assert not problems, "PCI DSS scan failures:\n" + "\n".join(problems)


def test_a_module_scanned_alone_passes() -> None:
    """`make compliance SCAN=modules/<m>`: the examples of one module get the exceptions the
    examples get in the scan of modules/ (account-level services they do not deploy)."""
    outcome = scan.scan([Path(__file__).parents[2] / "modules" / "tokenization_vault"])
    assert not outcome.failures, [f"{f.check_id} {f.resource}" for f in outcome.failures]
