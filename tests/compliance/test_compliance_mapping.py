"""The control mapping and the exceptions register are consistent with the policies."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from compliance.register import (
    CUSTOM_ID,
    RegisterError,
    custom_policies,
    load_exceptions,
    load_mapping,
)


def test_every_custom_policy_is_mapped_to_its_requirement() -> None:
    mapping = load_mapping()
    for check_id, info in custom_policies().items():
        mapped = [r.id for r in mapping.requirements_of(check_id)]
        assert mapped, f"{check_id} is not mapped to any requirement"
        assert info.requirement in mapped, (
            f"{check_id} names {info.requirement}, mapped to {mapped}"
        )


def test_every_custom_policy_names_requirement_severity_and_guideline() -> None:
    for check_id, info in custom_policies().items():
        assert CUSTOM_ID.match(check_id)
        assert info.name.startswith(f"[PCI DSS {info.requirement}]")
        assert info.severity in {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
        assert info.guideline.endswith(f"#{check_id.lower()}")


def test_every_automated_requirement_has_a_check_and_manual_ones_have_evidence() -> None:
    for requirement in load_mapping().requirements:
        if requirement.automated:
            assert requirement.checks, f"{requirement.id} is automated but has no check"
        else:
            assert requirement.evidence, requirement.id
            assert not requirement.checks, requirement.id


def test_mapped_checks_exist() -> None:
    from checkov.common.checks_infra.registry import get_graph_checks_registry
    from checkov.terraform.checks.provider.registry import provider_registry
    from checkov.terraform.checks.resource.registry import resource_registry

    graph_registry = get_graph_checks_registry("terraform")
    graph_registry.load_checks()
    known = {c.id for c in graph_registry.checks} | set(custom_policies())
    for registry in (resource_registry, provider_registry):
        known |= {check.id for _, check in registry.all_checks()}
    unknown = set(load_mapping().checks) - known
    assert not unknown


def test_guideline_anchors_exist_in_policies_readme() -> None:
    readme = (Path(__file__).parents[2] / "policies" / "README.md").read_text().lower()
    for check_id in custom_policies():
        assert f'<a id="{check_id.lower()}"></a>' in readme, check_id


def test_exceptions_register_is_valid_and_current() -> None:
    exceptions = load_exceptions()
    assert not exceptions.expired
    for exception in exceptions.active:
        assert exception.check in load_mapping().checks


def test_exception_expires_on_its_date(tmp_path: Path) -> None:
    register = tmp_path / "exceptions.yaml"
    register.write_text(
        "exceptions:\n"
        "  - {check: CKV_AWS_7, resource: '*', justification: j, owner: o, expires: '2026-01-31'}\n"
    )
    assert load_exceptions(register, dt.date(2026, 1, 30)).active
    assert load_exceptions(register, dt.date(2026, 1, 31)).expired


def test_exception_without_owner_is_rejected(tmp_path: Path) -> None:
    register = tmp_path / "exceptions.yaml"
    register.write_text(
        "exceptions:\n"
        "  - {check: CKV_AWS_7, resource: '*', justification: j, expires: '2030-01-01'}\n"
    )
    with pytest.raises(RegisterError, match="owner"):
        load_exceptions(register)


def test_a_manual_artefact_must_exist(tmp_path: Path) -> None:
    """A report never points an assessor at a document that is not there."""
    (tmp_path / "compliance").mkdir()
    mapping = tmp_path / "compliance" / "mapping.yaml"
    mapping.write_text(
        "requirements:\n"
        "  - {id: '12.5.2', title: scope, automation: manual, evidence: scope document,"
        " artefact: docs/missing.md}\n"
    )
    with pytest.raises(RegisterError, match=r"docs/missing\.md"):
        load_mapping(mapping)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "missing.md").write_text("# scope\n")
    assert load_mapping(mapping).requirements[0].artefact == "docs/missing.md"
