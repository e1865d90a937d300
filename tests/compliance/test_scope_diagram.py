"""docs/pci-scope.md's network diagram is the one the Terraform gives (compliance.diagram)."""

from __future__ import annotations

import shutil
from pathlib import Path

from compliance import diagram

ROOT = Path(__file__).parents[2]


def test_the_committed_diagram_is_the_generated_one() -> None:
    assert diagram.main(["--check"]) == 0, "run: .venv/bin/python -m compliance.diagram"


def _copy(tmp_path: Path) -> Path:
    for module in ("network", "platform", "payment_workflow"):
        target = tmp_path / "modules" / module
        target.mkdir(parents=True)
        for tf in (ROOT / "modules" / module).glob("*.tf"):
            shutil.copy(tf, target / tf.name)
    return tmp_path


def test_the_diagram_follows_the_terraform(tmp_path: Path) -> None:
    """A tier moved into the CDE, a component taken out of the VPC and the API's default
    endpoint switched off each change the picture: it is read from the Terraform, not drawn."""
    root = _copy(tmp_path)
    before = diagram.read(root)
    assert before.tiers["data"] == "cde" and "vault" in before.workloads["data"]
    assert before.api_default_endpoint and before.api_waf
    assert before.optional_tiers == ("egress", "public", "acquirer", "firewall")
    assert before.tiers["public"] == "out-of-scope (cde-connected with acquirer firewall)"

    main_tf = root / "modules" / "network" / "main.tf"
    main_tf.write_text(
        main_tf.read_text().replace('application = "cde-connected"', 'application = "cde"')
    )
    vault_tf = root / "modules" / "platform" / "vault.tf"
    vault_tf.write_text(
        "\n".join(line for line in vault_tf.read_text().splitlines() if "vpc_config" not in line)
    )
    api_tf = root / "modules" / "payment_workflow" / "api.tf"
    api_tf.write_text(
        # The API's own setting (a custom domain disables it) turned on for good.
        api_tf.read_text().replace(
            "disable_execute_api_endpoint = local.custom_domain",
            "disable_execute_api_endpoint = true",
        )
    )
    after = diagram.read(root)
    assert after.tiers["application"] == "cde"
    assert "vault" not in after.workloads["data"]
    assert not after.api_default_endpoint
    text = diagram.mermaid(after)
    assert "application tier: PCIScope cde" in text and "TLS 1.0" not in text
