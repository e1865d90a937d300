"""The blueprint's own modules and environments pass the PCI DSS scan."""

from __future__ import annotations

from compliance import scan


def test_modules_and_environments_pass_the_scan() -> None:
    directories = scan.default_directories()
    assert directories, "modules/ and environments/ are missing"
    outcome = scan.scan(directories)
    problems = [
        f"{f.check_id} {f.resource} ({f.file}:{f.lines[0]}) {'; '.join(f.details)}"
        for f in outcome.failures
    ]
    problems += [f"expired exception {e.check} {e.resource}" for e in outcome.expired]
    problems += outcome.errors
    assert not problems, "PCI DSS scan failures:\n" + "\n".join(problems)
