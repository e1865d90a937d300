from __future__ import annotations

from local import dependency_audit

REPORT = {
    "dependencies": [
        {"name": "pydantic", "version": "2.14.3", "vulns": []},
        {
            "name": "jinja2",
            "version": "3.1.4",
            "vulns": [
                {
                    "id": "GHSA-q2x7-8rv6-6q7h",
                    "aliases": ["CVE-2024-56326"],
                    "fix_versions": ["3.1.5"],
                }
            ],
        },
        {
            "name": "cryptography",
            "version": "41.0.0",
            "vulns": [{"id": "PYSEC-2024-225", "aliases": [], "fix_versions": []}],
        },
        {
            "name": "somelib",
            "version": "1.0",
            "skip_reason": "Dependency not found on PyPI and could not be audited: somelib (1.0)",
        },
    ]
}


def test_findings_say_whether_they_ship_and_what_fixes_them() -> None:
    summary = dependency_audit.summarise(REPORT, runtime={"pydantic", "cryptography"})

    assert summary.audited == 3
    assert summary.findings == [
        "jinja2 3.1.4 [dev only]: GHSA-q2x7-8rv6-6q7h (CVE-2024-56326); fixed in 3.1.5",
        "cryptography 41.0.0 [runtime (in the Lambda zips)]: PYSEC-2024-225; no fixed version yet",
    ]


def test_a_pin_the_service_could_not_answer_is_counted_as_not_audited() -> None:
    summary = dependency_audit.summarise(REPORT, runtime=set())

    assert summary.not_audited == [
        "Dependency not found on PyPI and could not be audited: somelib (1.0)"
    ]


def test_runtime_names_come_from_the_exported_pins() -> None:
    exported = "# comment\npydantic==2.14.3\nPyYAML==6.0.3 ; python_version >= '3.11'\n"
    assert dependency_audit.pinned_names(exported) == {"pydantic", "pyyaml"}
