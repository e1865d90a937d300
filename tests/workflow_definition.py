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


def render(template: Path = TEMPLATE) -> dict[str, Any]:
    text = template.read_text()
    text = re.sub(r"\$\{retry_[a-z]+\}", "[]", text)
    text = re.sub(r"\$\{([a-z_]+)\}", r"\1", text)
    definition: dict[str, Any] = json.loads(text)
    return definition


def states() -> dict[str, Any]:
    found: dict[str, Any] = render()["States"]
    return found
