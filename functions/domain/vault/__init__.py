"""The tokenization vault (pure domain): envelope encryption, fingerprints, crypto-shredding.

Handlers build one ``Vault`` per container from the boto3 adapters
(``functions.adapters.kms.KmsKeyService``, ``functions.adapters.vault_table.DynamoVaultStore``)
and an audit sink, and call ``tokenize``, ``detokenize``, ``erase_customer`` and ``rewrap``.
"""

from .errors import (
    CustomerKeyErasedError,
    DetokenizeNotPermittedError,
    InvalidCardError,
    InvalidRequestError,
    TokenizeRateLimitedError,
    TokenNotFoundError,
    TokenSpaceExhaustedError,
    TokenTenantMismatchError,
    VaultError,
    VaultRecordTamperedError,
    VaultUnavailableError,
)
from .limits import ClassLimit
from .model import (
    ANONYMOUS_SCOPE,
    AuditAction,
    AuditEvent,
    Caller,
    CustomerKeyRecord,
    DetokenizeResult,
    ErasureReport,
    FingerprintEntry,
    GeneratedDataKey,
    KeyPurpose,
    MacKey,
    RewrapReport,
    TokenFormat,
    TokenizeResult,
    TokenRecord,
    VaultSettings,
    WrappedKeyRef,
)
from .ports import (
    AuditSink,
    ClassCounter,
    Clock,
    KeyService,
    RandomSource,
    SystemClock,
    SystemRandom,
    VaultStore,
)
from .service import Vault

__all__ = [
    "ANONYMOUS_SCOPE",
    "AuditAction",
    "AuditEvent",
    "AuditSink",
    "Caller",
    "ClassCounter",
    "ClassLimit",
    "Clock",
    "CustomerKeyErasedError",
    "CustomerKeyRecord",
    "DetokenizeNotPermittedError",
    "DetokenizeResult",
    "ErasureReport",
    "FingerprintEntry",
    "GeneratedDataKey",
    "InvalidCardError",
    "InvalidRequestError",
    "KeyPurpose",
    "KeyService",
    "MacKey",
    "RandomSource",
    "RewrapReport",
    "SystemClock",
    "SystemRandom",
    "TokenFormat",
    "TokenNotFoundError",
    "TokenRecord",
    "TokenSpaceExhaustedError",
    "TokenTenantMismatchError",
    "TokenizeRateLimitedError",
    "TokenizeResult",
    "Vault",
    "VaultError",
    "VaultRecordTamperedError",
    "VaultSettings",
    "VaultStore",
    "VaultUnavailableError",
    "WrappedKeyRef",
]
