"""CKV_PCI_009, PCI DSS 7.2.1: Only roles designated for PAN decryption may decrypt with the
vault key."""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import Graph, PciCheck, graph_at, is_vault_key, resolve_resources, strings, tags_of
from pci_iam import (
    WRITTEN_IN,
    condition_values,
    grants_decrypt,
    identity_policy,
    judgeable,
    roles_holding,
)

# The role tag that records the access decision (7.2.1: access by job function, approved): a
# role that returns or re-encrypts card numbers (detokenize, the vault's rewrap) carries it.
ACCESS_TAG = "PANAccess"
DECRYPT = "decrypt"


class VaultKeyDecryptOnlyDesignatedRoles(PciCheck):
    """CKV_PCI_009: kms:Decrypt with the vault key (the key tagged ``Purpose = vault``, named
    by reference, by ARN or by ``*``) is held only by roles tagged ``PANAccess = decrypt``.

    Decided by tags and graph facts, never by names: which key a statement reaches is resolved
    through the configuration, and who holds the policy is the role it is attached to, so a
    renamed key or role is still checked, and a role called "detokenize" gains nothing by it.
    """

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_009",
            "7.2.1",
            "Only roles designated for PAN decryption (PANAccess = decrypt) decrypt with the "
            "vault key",
            ["aws_iam_role_policy", "aws_iam_policy", "aws_iam_role"],
            BcSeverities.CRITICAL,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        statements, unresolved = identity_policy(self.entity_type, conf, graph)
        vault_decrypt = []
        for statement in statements:
            if not grants_decrypt(statement) or _customer_key_context_only(statement):
                continue
            if _table_at_rest_only(statement):
                continue
            reaches, unknown = _reaches_vault_key(graph, statement)
            if reaches:
                vault_decrypt.append(statement)
            unresolved += [f"key {value}: an expression only a plan renders" for value in unknown]
        vault_decrypt, notes = judgeable(vault_decrypt, owner_matters=True)
        unresolved += notes
        if not vault_decrypt:
            if unresolved:
                return self.unresolved(conf, "; ".join(unresolved))
            return CheckResult.PASSED if statements else CheckResult.UNKNOWN
        roles = roles_holding(self.entity_type, conf, graph)
        undesignated = [r.address for r in roles if _access(r.attrs, graph_at(graph, r)) != DECRYPT]
        if not roles:
            self.details = ["decrypts with the vault key, held by no role the scan can see"]
        elif undesignated:
            self.details = [f"not tagged {ACCESS_TAG} = {DECRYPT}: {', '.join(undesignated)}"]
        return self.result(bool(roles) and not undesignated)


def _reaches_vault_key(graph: Graph, statement: dict[str, Any]) -> tuple[bool, list[str]]:
    """Whether a statement's resources include the vault key, and those that cannot be
    resolved here."""
    unknown = []
    for value in strings(statement.get("Resource")):
        if value == "*":
            return True, []
        keys, resolved = resolve_resources(graph, value, "aws_kms_key", statement.get(WRITTEN_IN))
        if any(is_vault_key(k.attrs, graph_at(graph, k)) for k in keys):
            return True, []
        if not resolved:
            unknown.append(value)
    return False, unknown


def _access(conf: dict[str, Any], graph: Graph) -> str:
    for key, value in tags_of(conf, graph).items():
        if key.lower() == ACCESS_TAG.lower():
            return value.strip().lower()
    return ""


def _table_at_rest_only(statement: dict[str, Any]) -> bool:
    """Decrypt limited to DynamoDB unwrapping a table's own at-rest key (kms:ViaService
    DynamoDB and the table-name context DynamoDB sends, "How Amazon DynamoDB uses AWS KMS"):
    every caller of a table encrypted with the vault key needs it, and it opens no card
    record, which the vault seals under its own data keys."""
    via = condition_values(statement, "stringequals", "kms:viaservice")
    tables = condition_values(
        statement, "stringequals", "kms:encryptioncontext:aws:dynamodb:tablename"
    )
    return bool(via) and bool(tables) and all(v.startswith("dynamodb.") for v in via)


def _customer_key_context_only(statement: dict[str, Any]) -> bool:
    """Decrypt limited by the encryption context to the vault's customer-key wrapping keys:
    those unwrap per-customer keys, never a card record's data key."""
    values = condition_values(statement, "stringequals", "kms:encryptioncontext:vault")
    return bool(values) and set(values) == {"customer-key"}


check = VaultKeyDecryptOnlyDesignatedRoles()
