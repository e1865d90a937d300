"""CKV_PCI_019, PCI DSS 3.6.1.

The vault key policy grants the account root no unconditioned cryptographic use.
"""

from __future__ import annotations

import re
from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import (
    PciCheck,
    graph_at,
    is_set,
    is_vault_key,
    strings,
    unwrap,
)
from pci_iam import actions, allows, matches_any, parse_policy, short, unrendered

# Cryptographic operations of a KMS key, by its key usage: what "use" of the key means, as opposed
# to managing it. Only the operations a key's usage admits can be granted in effect.
KMS_CRYPTO_ACTIONS = {
    "ENCRYPT_DECRYPT": (
        "kms:decrypt",
        "kms:encrypt",
        "kms:generatedatakey",
        "kms:generatedatakeywithoutplaintext",
        "kms:generatedatakeypair",
        "kms:generatedatakeypairwithoutplaintext",
        "kms:reencryptfrom",
        "kms:reencryptto",
    ),
    "GENERATE_VERIFY_MAC": ("kms:generatemac", "kms:verifymac"),
    "SIGN_VERIFY": ("kms:sign", "kms:verify"),
    "KEY_AGREEMENT": ("kms:derivesharedsecret",),
}


ACCOUNT_ROOT = re.compile(r"(^\d{12}$|:root$)")


def crypto_actions_granted(statement: dict[str, Any], key_usage: str) -> list[str]:
    """The cryptographic KMS actions (of a key with ``key_usage``) an Allow statement grants,
    whether it names them (also as ``kms:*``, ``*`` or ``kms:Decrypt*``, string or list) or
    grants them through ``NotAction``."""
    crypto = KMS_CRYPTO_ACTIONS.get(key_usage.upper(), KMS_CRYPTO_ACTIONS["ENCRYPT_DECRYPT"])
    if not allows(statement):
        return []
    if statement.get("NotAction") is not None:
        excluded = [a.lower() for a in strings(statement.get("NotAction"))]
        return [a for a in crypto if not matches_any(a, excluded)]
    return [a for a in crypto if matches_any(a, actions(statement))]


def key_usage_of(conf: dict[str, Any]) -> str:
    usage = unwrap(conf.get("key_usage"))
    if isinstance(usage, str) and usage in KMS_CRYPTO_ACTIONS:
        return usage
    return "ENCRYPT_DECRYPT"


def principals_of(statement: dict[str, Any]) -> list[str]:
    principal = unwrap(statement.get("Principal"))
    if isinstance(principal, dict):
        return [p for key in ("AWS", "aws") for p in strings(principal.get(key))]
    return strings(principal)


def names_account_root_or_anyone(statement: dict[str, Any]) -> bool:
    return any(p == "*" or ACCOUNT_ROOT.search(p) for p in principals_of(statement))


class VaultKeyNoUnconditionedRootCryptoUse(PciCheck):
    """CKV_PCI_019: the vault key's policy grants no cryptographic use to the account root (or
    to everyone) without a condition.

    Complements CKV2_PCI_007, which looks for an explicit Deny and for ``Action = "kms:*"`` as a
    string: a policy that writes ``["kms:*"]``, ``"*"``, ``kms:Decrypt*`` or a plain
    ``kms:Decrypt`` for the root, next to any Deny, passed it. The root principal in a key
    policy is every IAM identity of the account the account's IAM policies allow, so an
    unconditioned grant to it is a grant to whoever IAM says (issue 18, finding 3).
    """

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_019",
            "3.6.1",
            "The vault key policy grants the account root no unconditioned cryptographic use",
            ["aws_kms_key", "aws_kms_key_policy"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        usage = key_usage_of(conf)
        if self.entity_type == "aws_kms_key_policy":
            keys = graph.targets(graph.me, "key_id") if graph.me is not None else []
            vault_keys = [k for k in keys if is_vault_key(k.attrs, graph_at(graph, k))]
            if not vault_keys:
                return CheckResult.UNKNOWN
            usage = key_usage_of(vault_keys[0].attrs)
        elif not is_vault_key(conf, graph):
            return CheckResult.UNKNOWN
        statements = parse_policy(conf.get("policy"))
        if not statements:
            text = unrendered(conf.get("policy"))
            if text is not None:
                return self.unresolved(conf, f"key policy {short(text)}")
            return CheckResult.UNKNOWN  # no policy (AWS default: root kms:*) is CKV2_PCI_007's
        blanket = sorted(
            {
                action
                for s in statements
                if names_account_root_or_anyone(s) and not is_set(s.get("Condition"))
                for action in crypto_actions_granted(s, usage)
            }
        )
        self.details = (
            [f"granted to the account root without a condition: {', '.join(blanket)}"]
            if blanket
            else []
        )
        return self.result(not blanket)


check = VaultKeyNoUnconditionedRootCryptoUse()
