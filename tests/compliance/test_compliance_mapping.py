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
            assert requirement.evidence and requirement.artefact, requirement.id


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


def _mapping(tmp_path: Path, requirement: str) -> Path:
    (tmp_path / "compliance").mkdir(exist_ok=True)
    (tmp_path / "modules" / "kms").mkdir(parents=True, exist_ok=True)
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "docs" / "ir.md").write_text('<a id="plan"></a>\n# plan\n')
    mapping = tmp_path / "compliance" / "mapping.yaml"
    mapping.write_text(f"requirements:\n  - {requirement}\n")
    return mapping


def test_a_control_naming_a_module_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    """The mapping cannot credit a module that is not in the repository."""
    control = "{id: KEY-03, description: rotation, checks: [CKV_PCI_002], modules: [%s]}"
    requirement = "{id: '3.7.4', title: rotation, automation: automated, controls: [%s]}"
    with pytest.raises(RegisterError, match="no such module: key_management"):
        load_mapping(_mapping(tmp_path, requirement % (control % "kms, key_management")))
    with pytest.raises(RegisterError, match="names the modules"):
        load_mapping(_mapping(tmp_path, requirement % (control % "")))
    loaded = load_mapping(_mapping(tmp_path, requirement % (control % "kms, environments")))
    assert loaded.requirements[0].controls[0].modules == ("kms", "environments")


def test_a_manual_requirement_names_an_artefact_that_exists(tmp_path: Path) -> None:
    manual = "{id: '12.10.1', title: ir, automation: manual, evidence: the plan%s}"
    with pytest.raises(RegisterError, match="names its artefact"):
        load_mapping(_mapping(tmp_path, manual % ""))
    with pytest.raises(RegisterError, match="no anchor 'runbook'"):
        load_mapping(_mapping(tmp_path, manual % ", artefact: 'docs/ir.md#runbook'"))
    loaded = load_mapping(_mapping(tmp_path, manual % ", artefact: 'docs/ir.md#plan'"))
    assert loaded.requirements[0].artefact == "docs/ir.md#plan"


def test_the_projects_artefacts_and_modules_exist() -> None:
    """Every artefact and module the project's mapping names is in the repository (the loader
    refuses the mapping otherwise; this says which requirement names what)."""
    root = Path(__file__).parents[2]
    for requirement in load_mapping().requirements:
        if requirement.artefact:
            assert (root / requirement.artefact.partition("#")[0]).is_file(), requirement.id
        for control in requirement.controls:
            for module in control.modules:
                assert module == "environments" or (root / "modules" / module).is_dir()


def test_no_process_requirement_is_claimed_by_a_check() -> None:
    """Stretched claims stay out: an incident response plan is a document, so 12.10.1 is
    manual, and the recoverability checks listed under it only support its artefact."""
    requirement = next(r for r in load_mapping().requirements if r.id == "12.10.1")
    assert not requirement.automated
    assert requirement.artefact.startswith("docs/compliance/procedures.md#")
