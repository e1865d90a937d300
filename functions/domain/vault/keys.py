"""Key caches and the record cryptography.

Key hierarchy (per tenant, per customer). The one vault KMS key issues two kinds of tenant data
keys, told apart by their KMS encryption context (so IAM can grant Decrypt for one and not the
other, and KMS refuses to unwrap either under the other's context):

    KMS key ──GenerateDataKey({vault: data-key, tenant_id})─────▶ record data key (DK)
    KMS key ──GenerateDataKey({vault: customer-key, tenant_id})─▶ wrapping key (WK)
    customer key (CK): 256 random bits, AES-GCM-wrapped under a WK, one per (tenant, customer)
    record key = HKDF-SHA-256(ikm = DK, salt = CK, info = tenant, scope, token, CK id)
    record     = AES-256-GCM(record key, nonce, PAN, aad = tenant, scope, token, CK id)

Who can unwrap what: tokenize may Decrypt only ``customer-key`` (it loads customer keys another
container created) and never a stored record's DK, so it cannot decrypt a stored record;
detokenize and the admin function may Decrypt both. A record key needs both the record's DK
(KMS) and its customer's CK (the vault table), so deleting the customer key record shreds every
token of that customer while KMS, the other customers and the tenant's data keys are untouched.
Each record has its own derived key, so a DK may be cached for many records without nearing the
AES-GCM random-nonce limit.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import VaultRecordTamperedError
from .model import KeyPurpose

NONCE_BYTES = 12
KEY_BYTES = 32
_SEP = "\x1f"

K = TypeVar("K")
V = TypeVar("V")


def kms_context(purpose: KeyPurpose, tenant_id: str) -> dict[str, str]:
    """KMS encryption context of a tenant data key (visible in CloudTrail, usable in IAM)."""
    return {"vault": purpose.value, "tenant_id": tenant_id}


def data_key_context(tenant_id: str) -> dict[str, str]:
    """KMS encryption context of a tenant's record data keys."""
    return kms_context(KeyPurpose.RECORD, tenant_id)


def customer_key_context(tenant_id: str) -> dict[str, str]:
    """KMS encryption context of a tenant's customer-key wrapping keys."""
    return kms_context(KeyPurpose.CUSTOMER_KEY, tenant_id)


def _join(*parts: str) -> bytes:
    return _SEP.join(parts).encode()


def record_aad(tenant_id: str, scope: str, token: str, customer_key_id: str) -> bytes:
    return _join("vault-record-v1", tenant_id, scope, token, customer_key_id)


def record_aad_v2(
    tenant_id: str,
    scope: str,
    token: str,
    customer_key_id: str,
    *,
    token_format: str,
    single_use: bool,
    expires_at: int | None,
    fingerprint: str,
    card_key: str | None,
    brand: str,
    last4: str,
) -> bytes:
    """Version 2: also every field a reader acts on, so flipping ``single_use`` or
    ``expires_at``, or swapping a fingerprint, makes the record fail to open."""
    return _join(
        "vault-record-v2",
        tenant_id,
        scope,
        token,
        customer_key_id,
        token_format,
        "1" if single_use else "0",
        "" if expires_at is None else str(expires_at),
        fingerprint,
        card_key or "",
        brand,
        last4,
    )


def customer_key_aad(tenant_id: str, scope: str, customer_key_id: str) -> bytes:
    return _join("vault-customer-key-v1", tenant_id, scope, customer_key_id)


def derive_record_key(
    data_key: bytes, customer_key: bytes, tenant_id: str, scope: str, token: str, ck_id: str
) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=customer_key,
        info=_join("vault-record-key-v1", tenant_id, scope, token, ck_id),
    )
    return hkdf.derive(data_key)


def seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except (InvalidTag, ValueError):
        raise VaultRecordTamperedError() from None


@dataclass(slots=True)
class ActiveDataKey:
    """The data key a container currently encrypts with for one tenant."""

    plaintext: bytes = field(repr=False)
    wrapped: bytes = field(repr=False)
    kms_key_id: str
    issued_at: float
    uses: int = 0


class LruCache(Generic[K, V]):
    """A bounded LRU with an optional maximum age per entry (times come from the caller)."""

    def __init__(self, max_entries: int, max_age_seconds: float | None = None) -> None:
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()
        self._max_entries = max_entries
        self._max_age = max_age_seconds

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"LruCache(entries={len(self._entries)}, max={self._max_entries})"

    def get(self, key: K, now: float) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, stored_at = entry
        if self._max_age is not None and now - stored_at >= self._max_age:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V, now: float) -> None:
        self._entries[key] = (value, now)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


class DataKeyCache:
    """Encrypt side: one active data key per tenant (one cache per ``KeyPurpose``), retired
    after ``max_uses`` or ``max_age``.

    ``take`` counts a use; the caller asks KMS for a new key when it returns None.
    """

    def __init__(self, max_age_seconds: float, max_uses: int, max_tenants: int) -> None:
        self._keys: LruCache[str, ActiveDataKey] = LruCache(max_tenants)
        self._max_age = max_age_seconds
        self._max_uses = max_uses

    def __repr__(self) -> str:
        return f"DataKeyCache(tenants={len(self._keys)})"

    def take(self, tenant_id: str, now: float) -> ActiveDataKey | None:
        key = self._keys.get(tenant_id, now)
        if key is None:
            return None
        if key.uses >= self._max_uses or now - key.issued_at >= self._max_age:
            self._keys.pop(tenant_id)
            return None
        key.uses += 1
        return key

    def install(self, tenant_id: str, key: ActiveDataKey, now: float) -> None:
        key.uses = 1
        self._keys.put(tenant_id, key, now)

    def clear(self) -> None:
        self._keys.clear()
