"""The blueprint's own modules and environments pass the PCI DSS scan.

One test per scanned directory, so that the parallel test workers share the scan (checkov
renders each environment's modules on its own, so nothing is gained by scanning them together).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance import scan

DIRECTORIES = scan.default_directories()
# staging is prod's composition with other tfvars, which the HCL scan does not render through
# platform (test_staging_is_prod_s_composition checks the sameness): scanning it again in every
# `make test` cost two minutes of CPU for the same findings. `make compliance` still scans it.
# environments/local is judged on its applied plan instead, every value rendered (the e2e test
# test_the_applied_plan_passes_the_pci_scan_with_resolved_values).
SCANNED = [d for d in DIRECTORIES if d.name not in ("staging", "local")]


def test_modules_and_environments_are_scanned() -> None:
    names = {d.name for d in DIRECTORIES}
    assert "modules" in names and {"dev", "prod"} <= names, names


@pytest.mark.parametrize("directory", SCANNED, ids=lambda d: d.name)
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


def test_staging_is_prod_s_composition() -> None:
    """What makes staging's scan prod's: the same files, calling platform with the same
    arguments, apart from its name, network range, state key and prod's simulated-network
    guard."""
    root = Path(__file__).parents[2] / "environments"
    allowed = (
        "#",
        "name_prefix",
        "environment",
        "Environment",
        "vpc_cidr_block",
        "allow_simulated_card_network",
        "key ",
    )

    def lines(env: str, name: str) -> list[str]:
        text = (root / env / name).read_text()
        return [
            line.strip()
            for line in text.splitlines()
            if line.strip() and not line.strip().startswith(allowed)
        ]

    names = sorted(p.name for p in (root / "prod").glob("*.tf"))
    assert names == sorted(p.name for p in (root / "staging").glob("*.tf"))
    for name in names:
        if name == "variables.tf":
            continue  # descriptions and required-ness differ; the types are checked by tftest
        assert lines("staging", name) == lines("prod", name), name
