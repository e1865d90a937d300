"""The control mapping and the exceptions register (both YAML, beside this file)."""

from __future__ import annotations

import datetime as dt
import fnmatch
import importlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lock file

from compliance.engine import Finding

HERE = Path(__file__).resolve().parent
MAPPING_PATH = HERE / "mapping.yaml"
EXCEPTIONS_PATH = HERE / "exceptions.yaml"
POLICIES_DIR = HERE.parent / "policies"
CUSTOM_ID = re.compile(r"^CKV2?_PCI_\d{3}$")


class RegisterError(ValueError):
    """The mapping or the exceptions register is malformed."""


@dataclass(frozen=True)
class Control:
    id: str
    description: str
    checks: tuple[str, ...]
    modules: tuple[str, ...]


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    automated: bool
    controls: tuple[Control, ...] = ()
    evidence: str = ""
    # manual requirements: the repository path of the document that evidences it
    artefact: str = ""

    @property
    def checks(self) -> list[str]:
        seen: dict[str, None] = {}
        for control in self.controls:
            seen.update(dict.fromkeys(control.checks))
        return list(seen)


@dataclass(frozen=True)
class Mapping:
    standard: str
    version: str
    requirements: tuple[Requirement, ...]

    @property
    def checks(self) -> list[str]:
        seen: dict[str, None] = {}
        for requirement in self.requirements:
            seen.update(dict.fromkeys(requirement.checks))
        return list(seen)

    def requirements_of(self, check_id: str) -> list[Requirement]:
        return [r for r in self.requirements if check_id in r.checks]


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RegisterError(f"{where}: expected a list of strings")
    return tuple(value)


def _artefact(value: Any, rid: str, mapping_path: Path) -> str:
    """A manual requirement's evidence artefact: a path relative to the repository root that
    must exist, with an optional ``#anchor`` that must be an ``<a id>`` in it, so a report
    never points an assessor at nothing."""
    if value in (None, ""):
        raise RegisterError(f"requirement {rid}: a manual requirement names its artefact")
    root = mapping_path.resolve().parent.parent
    path, _, anchor = str(value).partition("#")
    if not isinstance(value, str) or not (root / path).is_file():
        raise RegisterError(
            f"requirement {rid}: artefact {value!r} is not a file in the repository"
        )
    if anchor and f'<a id="{anchor}"></a>' not in (root / path).read_text():
        raise RegisterError(f"requirement {rid}: artefact {value!r} has no anchor {anchor!r}")
    return value


def _modules(value: Any, where: str, mapping_path: Path) -> tuple[str, ...]:
    """The modules a control names: each a folder of ``modules/`` (or ``environments``, the
    roots), so the mapping cannot credit a module that does not exist."""
    names = _str_list(value, where)
    if not names:
        raise RegisterError(f"{where}: a control names the modules that satisfy it")
    root = mapping_path.resolve().parent.parent
    missing = [n for n in names if n != "environments" and not (root / "modules" / n).is_dir()]
    if missing:
        raise RegisterError(f"{where}: no such module: {', '.join(missing)}")
    return names


def load_mapping(path: Path = MAPPING_PATH) -> Mapping:
    raw = yaml.safe_load(path.read_text())
    requirements = []
    for item in raw.get("requirements", []):
        rid = str(item["id"])
        automation = item.get("automation")
        if automation not in ("automated", "manual"):
            raise RegisterError(f"requirement {rid}: automation must be automated or manual")
        controls = tuple(
            Control(
                id=str(c["id"]),
                description=str(c.get("description", "")),
                checks=_str_list(c.get("checks", []), f"{rid}/{c['id']}.checks"),
                modules=_modules(c.get("modules", []), f"{rid}/{c['id']}.modules", path),
            )
            for c in item.get("controls", [])
        )
        requirements.append(
            Requirement(
                id=rid,
                title=str(item["title"]),
                automated=automation == "automated",
                controls=controls,
                evidence=str(item.get("evidence", "")),
                # automated ones may name one too: the procedure for what stays with people
                artefact=(
                    _artefact(item.get("artefact"), rid, path)
                    if automation == "manual" or item.get("artefact")
                    else ""
                ),
            )
        )
    return Mapping(str(raw.get("standard", "")), str(raw.get("version", "")), tuple(requirements))


@dataclass(frozen=True)
class PolicyInfo:
    id: str
    name: str
    requirement: str
    severity: str
    guideline: str


def python_checks(policies_dir: Path = POLICIES_DIR) -> list[Any]:
    """Our Python checks, one per ``CKV_PCI_###.py`` file, imported the way checkov loads them:
    as top-level modules named after the file, with the folder on ``sys.path`` (so the files'
    ``import pci_common`` finds the shared helpers). Each file registers its ``check``."""
    folder = str(policies_dir)
    if folder not in sys.path:
        sys.path.insert(1, folder)
    checks = []
    for path in sorted(policies_dir.glob("CKV_PCI_*.py")):
        module = importlib.import_module(path.stem)  # imported lazily: it loads checkov
        checks.append(module.check)
    return checks


def custom_policies(policies_dir: Path = POLICIES_DIR) -> dict[str, PolicyInfo]:
    """Our checks, read from the policy files without loading checkov's registries."""
    found: dict[str, PolicyInfo] = {}
    for path in sorted(policies_dir.glob("*.yaml")):
        meta = (yaml.safe_load(path.read_text()) or {}).get("metadata", {})
        name = str(meta.get("name", ""))
        match = re.match(r"\[PCI DSS ([\d.]+)\]", name)
        found[str(meta.get("id"))] = PolicyInfo(
            id=str(meta.get("id")),
            name=name,
            requirement=match.group(1) if match else "",
            severity=str(meta.get("severity", "")),
            guideline=str(meta.get("guideline", "")),
        )
    for check in python_checks(policies_dir):
        found[check.id] = PolicyInfo(
            id=check.id,
            name=check.name,
            requirement=check.requirement,
            severity=check.severity.name if check.severity is not None else "",
            guideline=check.guideline or "",
        )
    return found


@dataclass(frozen=True)
class PolicyException:
    check: str
    resource: str
    justification: str
    owner: str
    expires: dt.date
    file: str = ""
    root: str = ""

    @property
    def is_global(self) -> bool:
        return self.resource == "*" and not self.file and not self.root

    def expired(self, today: dt.date) -> bool:
        return today >= self.expires

    def matches(self, finding: Finding) -> bool:
        return (
            finding.check_id == self.check
            and fnmatch.fnmatchcase(finding.resource, self.resource)
            and (not self.file or fnmatch.fnmatchcase(finding.file, self.file))
            and (not self.root or fnmatch.fnmatchcase(finding.scanned, self.root))
        )


@dataclass
class Exceptions:
    active: list[PolicyException] = field(default_factory=list)
    expired: list[PolicyException] = field(default_factory=list)


def load_exceptions(path: Path = EXCEPTIONS_PATH, today: dt.date | None = None) -> Exceptions:
    today = today or dt.date.today()
    raw = yaml.safe_load(path.read_text()) or {}
    out = Exceptions()
    for index, item in enumerate(raw.get("exceptions") or []):
        missing = [
            k for k in ("check", "resource", "justification", "owner", "expires") if not item.get(k)
        ]
        if missing:
            raise RegisterError(f"exception #{index + 1}: missing {', '.join(missing)}")
        expires = item["expires"]
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError as error:
                raise RegisterError(f"exception #{index + 1}: bad expires {expires!r}") from error
        if not isinstance(expires, dt.date):
            raise RegisterError(f"exception #{index + 1}: expires must be a date")
        entry = PolicyException(
            check=str(item["check"]),
            resource=str(item["resource"]),
            justification=" ".join(str(item["justification"]).split()),
            owner=str(item["owner"]),
            expires=expires,
            file=str(item.get("file", "")),
            root=str(item.get("root", "")),
        )
        (out.expired if entry.expired(today) else out.active).append(entry)
    return out
