"""The README's table of what the emulator's access checks evaluate stays true to the code.

Each row names the functions that do the check (they must exist), and the condition keys the
checks supply to policies: a key the code supplies that the table does not name, or one the
table names that no code supplies, fails here.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

from local import iam_policy

ROOT = Path(__file__).resolve().parents[2]
CHECKING_CODE = [ROOT / "local" / "enforcement.py", ROOT / "local" / "iam_policy.py"]
# Condition keys: global and service context keys (aws:...), KMS's, DynamoDB's and EventBridge's.
CONDITION_KEY = re.compile(
    r"^(aws:[A-Za-z][\w:-]*|kms:(EncryptionContext|ViaService|CallerAccount|Grant|RetiringPrincipal)"
    r"[\w:*-]*|dynamodb:LeadingKeys|events:(source|detail-type))$"
)


def table() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- BEGIN access-checks -->(.*?)<!-- END access-checks -->", readme, re.S)
    assert match, "README.md has no access-checks table"
    return match[1]


def documented_keys() -> set[str]:
    return {
        name.rstrip(":*")
        for name in re.findall(r"`([^`\s]+)`", table())
        if CONDITION_KEY.match(name)
    }


def supplied_keys() -> set[str]:
    """String constants in the checking code that are condition keys (an f-string's constant
    head, such as ``kms:EncryptionContext:``, counts once), except the list of keys that carry
    several values, which says how keys are compared, not which are supplied."""
    keys: set[str] = set()
    for path in CHECKING_CODE:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                value = node.value.rstrip(":")
                if CONDITION_KEY.match(value) and value not in iam_policy.MULTI_VALUED_KEYS:
                    keys.add(value)
    return keys


def test_every_condition_key_the_checks_supply_is_documented() -> None:
    assert supplied_keys() - documented_keys() == set()


def test_every_documented_condition_key_is_supplied_by_a_check() -> None:
    assert documented_keys() - supplied_keys() == set()


def test_every_function_the_table_names_exists() -> None:
    references = re.findall(r"`(local\.[\w.]+):([\w.]+)`", table())
    assert len(references) > 20
    for module_name, qualified in references:
        target: object = importlib.import_module(module_name)
        for part in qualified.split("."):
            assert hasattr(target, part), f"{module_name}:{qualified} does not exist"
            target = getattr(target, part)
