"""The payment workflow's ASL as Terraform renders it, for tests that read its states without a
plan: ARNs and names become placeholder strings, and the retry policies (Terraform locals,
checked by the module's own `terraform test`) become empty lists."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).parent.parent / (
    "modules/payment_workflow/templates/payment_workflow.asl.json.tftpl"
)


_IF_BNPL = re.compile(
    r"%\{ if bnpl_function_arn == \"\" ~\}\n(.*?)%\{ else ~\}\n(.*?)%\{ endif ~\}\n", re.S
)


def render(template: Path = TEMPLATE, *, bnpl: bool = True) -> dict[str, Any]:
    """``bnpl``: rendered as with modules/credit_decisioning composed (the BNPL step), or
    without it (a BNPL payment refused)."""
    text = _IF_BNPL.sub(lambda m: m.group(2 if bnpl else 1), template.read_text())
    text = re.sub(r"\$\{retry_[a-z]+\}", "[]", text)
    text = re.sub(r"\$\{([a-z_]+)\}", r"\1", text)
    definition: dict[str, Any] = json.loads(text)
    return definition


def states() -> dict[str, Any]:
    found: dict[str, Any] = render()["States"]
    return found
