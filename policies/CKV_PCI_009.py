"""CKV_PCI_009, PCI DSS 7.2.1: Only the detokenize role may decrypt with the vault key."""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import DETOKENIZE_NAME, VAULT_NAME, PciCheck, get, names_of, strings
from pci_iam import condition_values, grants_decrypt, identity_policy, judgeable


class VaultKeyDecryptOnlyDetokenize(PciCheck):
    """CKV_PCI_009: only the detokenize role may call kms:Decrypt on the vault key."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_009",
            "7.2.1",
            "Only the detokenize role may decrypt with the vault key",
            ["aws_iam_role_policy", "aws_iam_policy", "aws_iam_role"],
            BcSeverities.CRITICAL,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        statements, unresolved = identity_policy(self.entity_type, conf, graph)
        vault_decrypt = [
            s
            for s in statements
            if grants_decrypt(s)
            and any(r == "*" or VAULT_NAME.search(r) for r in strings(s.get("Resource")))
            and not _customer_key_context_only(s)
        ]
        vault_decrypt, notes = judgeable(vault_decrypt, owner_matters=True)
        unresolved += notes
        if not vault_decrypt:
            if unresolved:
                return self.unresolved(conf, "; ".join(unresolved))
            return CheckResult.PASSED if statements else CheckResult.UNKNOWN
        owner = " ".join([names_of(conf), str(get(conf, "role") or "")])
        return self.result(bool(DETOKENIZE_NAME.search(owner)))


def _customer_key_context_only(statement: dict[str, Any]) -> bool:
    """Decrypt limited by the encryption context to the vault's customer-key wrapping keys:
    those unwrap per-customer keys, never a card record's data key."""
    values = condition_values(statement, "stringequals", "kms:encryptioncontext:vault")
    return bool(values) and set(values) == {"customer-key"}


check = VaultKeyDecryptOnlyDetokenize()
