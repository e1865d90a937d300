"""Values the vault passes between its service, its ports and its callers.

Fields that hold a card number or key material are declared ``repr=False`` so that neither a
log line nor a traceback can print them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from functions.domain.cards import CardBrand

from .errors import InvalidRequestError
from .limits import ClassLimit

# Tenant and customer identifiers end up inside DynamoDB keys ("#"-separated) and inside the
# authenticated data of every ciphertext ("\x1f"-separated): neither character is allowed.
_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}")
_PURPOSE_PATTERN = re.compile(r"[a-z][a-z0-9_.:-]{0,63}")
# A purpose is a short code; a card number hides in it however its digits are separated
# ("pan-4111-1111-1111-1111", "pan:4111.1111..."), so the digits are counted, not the runs.
_MAX_PURPOSE_DIGITS = 8

# The key scope of tokens created without a customer. It cannot collide with a customer id
# (the id pattern does not allow "*") and it cannot be erased: erasure is per customer.
ANONYMOUS_SCOPE = "*"
_MAX_DATA_KEY_USES = 1_000_000


class KeyPurpose(StrEnum):
    """What a tenant data key protects: the value of ``vault`` in its KMS encryption context.

    The Terraform module's IAM conditions name these values (``kms:EncryptionContext:vault``).
    """

    RECORD = "data-key"  # record data keys: only detokenize and admin may Decrypt
    CUSTOMER_KEY = "customer-key"  # customer-key wrapping keys: tokenize may Decrypt too


class MacKey(StrEnum):
    """The KMS HMAC keys the vault computes MACs with, each used for one thing only.

    FINGERPRINT: per-tenant PAN fingerprints (deduplication inside the vault).
    CARD_KEY: the platform-wide card key the risk side counts with (``TokenizeResult.card_key``).
    """

    FINGERPRINT = "fingerprint"
    CARD_KEY = "card-key"


# Record versions: 1 authenticated tenant, scope, token and customer-key id only; 2 also binds
# every field a reader acts on (format, single use, expiry, fingerprint, card key, brand,
# last four), so an edited record no longer decrypts. ``rewrap`` moves version 1 to 2.
RECORD_VERSION = 2


class TokenFormat(StrEnum):
    OPAQUE = "opaque"
    FORMAT_PRESERVING = "format_preserving"


def check_id(value: str, param: str) -> str:
    if not isinstance(value, str) or _ID_PATTERN.fullmatch(value) is None:
        raise InvalidRequestError(
            f"{param} must be 1 to 128 characters of letters, digits and . _ : @ -", param=param
        )
    return value


def check_purpose(value: str) -> str:
    """A detokenize purpose is a short code (``authorization``, ``chargeback.evidence``)."""
    if (
        not isinstance(value, str)
        or _PURPOSE_PATTERN.fullmatch(value) is None
        or sum(c.isdigit() for c in value) > _MAX_PURPOSE_DIGITS
    ):
        raise InvalidRequestError(
            "purpose must be a lower-case code of up to 64 characters", param="purpose"
        )
    return value


def customer_scope(customer_id: str | None) -> str:
    return ANONYMOUS_SCOPE if customer_id is None else check_id(customer_id, "customer_id")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks: the principal (IAM role ARN, client id) and the roles granted to it."""

    principal: str
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class GeneratedDataKey:
    """A fresh data key from the key service: the plaintext and its KMS-wrapped form."""

    plaintext: bytes = field(repr=False)
    wrapped: bytes = field(repr=False)
    key_id: str


@dataclass(frozen=True, slots=True)
class WrappedKeyRef:
    """Which KMS key wrapped a data key, the wrapped bytes, and when the data key was issued."""

    kms_key_id: str
    wrapped_data_key: bytes = field(repr=False)
    issued_at: int


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """One vault item. ``ciphertext`` is the PAN under a key derived from the record's data key
    and its customer key; the authenticated data binds tenant, customer scope, token and key id.
    """

    token: str
    tenant_id: str
    scope: str
    token_format: TokenFormat
    single_use: bool
    fingerprint: str
    brand: CardBrand
    last4: str
    key: WrappedKeyRef
    customer_key_id: str
    nonce: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)
    created_at: int
    expires_at: int | None = None
    # The platform-wide card key (KMS GenerateMac under the card-key HMAC key); None on records
    # written before it existed.
    card_key: str | None = None
    version: int = RECORD_VERSION


@dataclass(frozen=True, slots=True)
class CustomerKeyRecord:
    """A customer's key (random, 256 bits) AES-GCM-wrapped under a tenant wrapping key.

    ``key`` is the wrapping key as KMS wrapped it, under the context ``wrap_context`` names:
    ``customer-key`` for every record written now; ``data-key`` only for records written
    before the two contexts were separated (``rewrap`` moves those).
    Deleting this record is the crypto-shred: every token of the customer needs it.
    """

    tenant_id: str
    scope: str
    key_id: str
    key: WrappedKeyRef
    nonce: bytes = field(repr=False)
    wrapped_key: bytes = field(repr=False)
    created_at: int
    wrap_context: KeyPurpose = KeyPurpose.CUSTOMER_KEY


@dataclass(frozen=True, slots=True)
class FingerprintEntry:
    """The deduplication index: one reusable token per (tenant, scope, format, fingerprint)."""

    tenant_id: str
    scope: str
    token_format: TokenFormat
    fingerprint: str
    token: str
    expires_at: int | None = None


@dataclass(frozen=True, slots=True)
class TokenizeResult:
    token: str
    brand: CardBrand
    last4: str
    fingerprint: str
    token_format: TokenFormat
    single_use: bool
    created: bool  # False when an existing token was returned (deduplication)
    # Platform-wide card key for risk counters (never stored beside first six digits outside
    # the vault); None for a record written before card keys existed.
    card_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The public view: no fingerprint (it would make tokenize an oracle, finding 5)."""
        return {
            "token": self.token,
            "brand": self.brand.value,
            "last4": self.last4,
            "format": self.token_format.value,
            "single_use": self.single_use,
            "created": self.created,
        }


@dataclass(frozen=True, slots=True)
class DetokenizeResult:
    token: str
    number: str = field(repr=False)
    brand: CardBrand
    last4: str


class AuditAction(StrEnum):
    DETOKENIZE = "detokenize"
    ERASE_CUSTOMER = "erase_customer"
    REWRAP = "rewrap"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What the audit sink receives. Never a card number: a token, codes and counts."""

    action: AuditAction
    tenant_id: str | None
    actor: str
    at: dt.datetime
    outcome: str  # "success", "denied" or "failure"
    reason: str | None = None  # the error code on failure
    token: str | None = None
    purpose: str | None = None
    customer_id: str | None = None
    request_id: str | None = None
    details: Mapping[str, int | str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "tenant_id": self.tenant_id,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "outcome": self.outcome,
            "reason": self.reason,
            "token": self.token,
            "purpose": self.purpose,
            "customer_id": self.customer_id,
            "request_id": self.request_id,
            "details": dict(self.details),
        }


@dataclass(frozen=True, slots=True)
class ErasureReport:
    tenant_id: str
    customer_id: str
    customer_key_deleted: bool
    items_deleted: int
    event: AuditEvent


@dataclass(frozen=True, slots=True)
class RewrapReport:
    """``customer_keys_rewrapped`` counts customer keys moved to a current wrapping key
    (``vault = customer-key``), ``tokens_rewrapped`` records moved to a current record data key
    (``vault = data-key``)."""

    customer_keys_rewrapped: int
    tokens_rewrapped: int
    skipped: int  # changed or deleted concurrently; picked up by the next run
    failed: int  # could not be decrypted (tampered); see the audit event
    event: AuditEvent
    # Records whose customer key is gone (left by an erasure that missed them): deleted.
    orphaned: int = 0


@dataclass(frozen=True, slots=True)
class VaultSettings:
    """Bounds and names the service needs. Handlers read them from the environment once."""

    # Encrypt side: one active data key per tenant per container, renewed after either bound.
    data_key_max_age_seconds: float = 300.0
    data_key_max_uses: int = 10_000
    max_cached_tenants: int = 1_000
    # Decrypt side: unwrapped data keys by wrapped bytes (LRU, bounded by size and age).
    decrypt_cache_size: int = 1_024
    decrypt_cache_max_age_seconds: float = 900.0
    # Customer keys: LRU; the age bound is how long an erasure may take to reach a warm
    # container that had the key cached.
    customer_key_cache_size: int = 4_096
    customer_key_cache_max_age_seconds: float = 300.0
    detokenize_role: str = "vault:detokenize"
    fpe_max_attempts: int = 16
    # Tokenize rate limit per tenant and card class (limits.py); applies when the vault is
    # given a class counter (the tokenize function's).
    class_limit: ClassLimit = field(default_factory=ClassLimit)

    def __post_init__(self) -> None:
        if self.data_key_max_uses < 1 or self.data_key_max_age_seconds <= 0:
            raise ValueError("data key cache bounds must be positive")
        if self.data_key_max_uses > _MAX_DATA_KEY_USES:
            # A wrapping key seals customer keys directly with random nonces: stay far below
            # the 2^32 AES-GCM limit per key.
            raise ValueError(f"data_key_max_uses must be at most {_MAX_DATA_KEY_USES}")
        if min(self.decrypt_cache_size, self.customer_key_cache_size, self.max_cached_tenants) < 1:
            raise ValueError("cache sizes must be positive")
        if self.fpe_max_attempts < 1:
            raise ValueError("fpe_max_attempts must be positive")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> VaultSettings:
        """Read ``VAULT_*`` variables (see the field names); missing ones keep the default."""
        defaults = cls()
        return cls(
            data_key_max_age_seconds=float(
                env.get("VAULT_DATA_KEY_MAX_AGE_SECONDS", defaults.data_key_max_age_seconds)
            ),
            data_key_max_uses=int(env.get("VAULT_DATA_KEY_MAX_USES", defaults.data_key_max_uses)),
            max_cached_tenants=int(
                env.get("VAULT_MAX_CACHED_TENANTS", defaults.max_cached_tenants)
            ),
            decrypt_cache_size=int(
                env.get("VAULT_DECRYPT_CACHE_SIZE", defaults.decrypt_cache_size)
            ),
            decrypt_cache_max_age_seconds=float(
                env.get(
                    "VAULT_DECRYPT_CACHE_MAX_AGE_SECONDS", defaults.decrypt_cache_max_age_seconds
                )
            ),
            customer_key_cache_size=int(
                env.get("VAULT_CUSTOMER_KEY_CACHE_SIZE", defaults.customer_key_cache_size)
            ),
            customer_key_cache_max_age_seconds=float(
                env.get(
                    "VAULT_CUSTOMER_KEY_CACHE_MAX_AGE_SECONDS",
                    defaults.customer_key_cache_max_age_seconds,
                )
            ),
            detokenize_role=env.get("VAULT_DETOKENIZE_ROLE", defaults.detokenize_role),
            fpe_max_attempts=int(env.get("VAULT_FPE_MAX_ATTEMPTS", defaults.fpe_max_attempts)),
            class_limit=ClassLimit(
                max_new_cards=int(
                    env.get("VAULT_CLASS_LIMIT_MAX_NEW_CARDS", defaults.class_limit.max_new_cards)
                ),
                window_seconds=int(
                    env.get("VAULT_CLASS_LIMIT_WINDOW_SECONDS", defaults.class_limit.window_seconds)
                ),
            ),
        )
