"""docs/threat-model.md names the test behind every threat; a renamed or deleted test fails here.

Reference forms the document uses (its header says so too):

- ``tests/<path>.py::<name>``: a pytest test, a function or a class bound at module level (or
  ``Class::method``); ``*`` matches a family (``test_f6_*``);
- ``modules/<m>/tests/<file>.tftest.hcl::<name>``: a ``run`` block, or a ``# --- <title>``
  section of a run whose title, with underscores for spaces and punctuation, starts with name;
- ``tests/policies/fixtures/<CHECK>``: a checkov check's pass/fail fixture folder.

Any other backticked repository path (a control: ``functions/...``, ``modules/...``) must exist.
Every row of a table whose last column is the test must name at least one test.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from functools import cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOC = REPO_ROOT / "docs" / "threat-model.md"
BACKTICKED = re.compile(r"`([^`\s]+)`")
SECTION = re.compile(r"^\s*# --- (.+)$", re.MULTILINE)
TEST_FILE = re.compile(r"^[\w./-]+\.(py|tftest\.hcl)::")
RUN = re.compile(r'^run "([^"]+)"', re.MULTILINE)
TOP_LEVEL: tuple[str, ...] = ("functions/", "modules/", "local/", "tests/", "policies/")
TOP_LEVEL += ("compliance/", "docs/", "environments/", "bench/", "ml/")


def snake(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


@cache
def python_names(path: Path) -> frozenset[str]:
    """Module-level test names, and Class::method for the tests of classes."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
            names.update(
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            )
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return frozenset(n for n in names if n.split("::")[-1].startswith(("test", "Test")))


@cache
def terraform_names(path: Path) -> tuple[frozenset[str], tuple[str, ...]]:
    text = path.read_text()
    return frozenset(RUN.findall(text)), tuple(snake(t) for t in SECTION.findall(text))


def reference_problem(reference: str) -> str | None:
    """Why a test reference does not resolve, or None when it does."""
    if reference.startswith("tests/policies/fixtures/"):
        folder = REPO_ROOT / reference
        return None if (folder / "main.tf").is_file() else f"{reference}: no fixture folder"
    file_part, _, name = reference.partition("::")
    path = REPO_ROOT / file_part
    if not path.is_file():
        return f"{reference}: {file_part} does not exist"
    if file_part.endswith(".py"):
        if not path.name.startswith("test_"):
            return f"{reference}: pytest does not collect {path.name}"
        matches = fnmatch.filter(python_names(path), name)
        return None if matches else f"{reference}: no test {name} in {file_part}"
    if file_part.endswith(".tftest.hcl"):
        runs, sections = terraform_names(path)
        if name in runs or any(s == name or s.startswith(name + "_") for s in sections):
            return None
        return f"{reference}: no run or section {name} in {file_part}"
    return f"{reference}: not a test reference"


def is_test_reference(token: str) -> bool:
    return bool(TEST_FILE.match(token)) or token.startswith("tests/policies/fixtures/")


def problems(text: str) -> list[str]:
    found = []
    for token in sorted(set(BACKTICKED.findall(text))):
        if "<" in token:  # a form spelled out (`tests/<path>.py::<name>`), not a reference
            continue
        if is_test_reference(token):
            problem = reference_problem(token)
            if problem:
                found.append(problem)
        elif token.startswith(TOP_LEVEL) and not (REPO_ROOT / token.rstrip("/")).exists():
            found.append(f"{token}: no such file or folder")
    found.extend(rows_without_a_test(text))
    return found


def rows_without_a_test(text: str) -> list[str]:
    missing = []
    test_column = False
    for line in text.splitlines():
        if not line.startswith("|"):
            test_column = False
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if set(cells[0]) <= {"-", " ", ":"}:
            continue
        if not test_column and cells[-1].lower().startswith("test"):
            test_column = True
            continue
        if test_column and not any(map(is_test_reference, BACKTICKED.findall(cells[-1]))):
            missing.append(f"row without a test: {line}")
    return missing


def test_every_test_and_control_the_threat_model_names_exists() -> None:
    assert problems(DOC.read_text()) == []


def test_every_component_has_its_stride_section() -> None:
    headings = {line.lstrip("#").strip().lower() for line in DOC.read_text().splitlines()}
    for component in (
        "api edge",
        "payments api function",
        "payment workflow",
        "vault: tokenize",
        "vault: detokenize",
        "ledger",
        "event bus and stream",
        "data lake",
        "acquirer connector",
        "build and supply chain",
    ):
        assert any(h.startswith(component) for h in headings), component


@pytest.mark.parametrize(
    ("reference", "resolves"),
    [
        ("tests/unit/test_threat_model.py::test_every_component_has_its_stride_section", True),
        ("tests/unit/test_threat_model.py::test_every_*", True),
        ("tests/unit/test_threat_model.py::test_a_test_nobody_wrote", False),
        ("tests/unit/ledger/test_ledger_properties.py::TestLedgerMachine", True),
        ("tests/unit/test_threat_model.py::snake", False),
        ("tests/unit/no_such_file.py::test_x", False),
        (
            "modules/kms/tests/kms.tftest.hcl::vault_key_users_that_are_administrators_are_refused",
            True,
        ),
        # a word cut short is not a prefix of a section
        ("modules/kms/tests/kms.tftest.hcl::vault_key_user", False),
        ("modules/fraud_stream/tests/fraud_stream.tftest.hcl::least_privilege", True),
        ("tests/policies/fixtures/CKV_PCI_019", True),
        ("tests/policies/fixtures/CKV_PCI_999", False),
        ("modules/kms/main.tf::anything", False),
    ],
)
def test_references_resolve_only_to_tests_that_exist(reference: str, resolves: bool) -> None:
    assert (reference_problem(reference) is None) is resolves


def test_a_row_naming_no_test_and_a_missing_control_are_reported() -> None:
    text = (
        "| STRIDE | threat | control | test |\n"
        "| --- | --- | --- | --- |\n"
        "| S | forged caller | `modules/payment_workflow/api.tf` | `tests/unit/x.py::test_y` |\n"
        "| T | tampered body | `functions/no_such_module.py` | reviewed by hand |\n"
    )
    assert problems(text) == [
        "functions/no_such_module.py: no such file or folder",
        "tests/unit/x.py::test_y: tests/unit/x.py does not exist",
        "row without a test: "
        "| T | tampered body | `functions/no_such_module.py` | reviewed by hand |",
    ]
