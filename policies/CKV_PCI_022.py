"""CKV_PCI_022, PCI DSS 3.6.1.

KMS key use in identity policies is bound to a service or an encryption context.
"""

from __future__ import annotations

from typing import Any

from pci_common import unwrap
from pci_iam import IdentityGrantCheck, condition_keys

# KMS actions that hand the caller plaintext, or a data key to make ciphertext with.
KMS_KEY_USE_ACTIONS = (
    "kms:decrypt",
    "kms:generatedatakey",
    "kms:generatedatakeypair",
    "kms:generatedatakeywithoutplaintext",
    "kms:generatedatakeypairwithoutplaintext",
    "kms:reencryptfrom",
    "kms:reencryptto",
)


class KmsKeyUseThroughServiceOrContext(IdentityGrantCheck):
    """CKV_PCI_022: an identity policy that lets a role decrypt (or make data keys) with a KMS
    key says through which service (``kms:ViaService``) or for which data
    (``kms:EncryptionContext:*``). Unconditioned, the role can decrypt every ciphertext under
    the key, whoever wrote it (issue 18, finding 11: every function held Decrypt and
    GenerateDataKey on the application key, which encrypts the tables, the workflow state and
    the environments)."""

    judged_actions = KMS_KEY_USE_ACTIONS
    problem = "KMS key use without kms:ViaService or kms:EncryptionContext"

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_022",
            "3.6.1",
            "KMS key use in identity policies is bound to a service or an encryption context",
        )

    def offending(self, statement: dict[str, Any], index: int) -> list[str]:
        bound = any(
            key == "kms:viaservice" or key.startswith("kms:encryptioncontext")
            for key in condition_keys(statement)
        )
        return [] if bound else [str(unwrap(statement.get("Sid")) or f"statement {index}")]


check = KmsKeyUseThroughServiceOrContext()
