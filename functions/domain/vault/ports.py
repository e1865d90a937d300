"""The vault's ports: what the service needs from the outside, as small protocols.

Adapters live in ``functions.adapters`` (boto3); tests use in-memory fakes.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Mapping
from typing import Protocol

from .model import (
    AuditEvent,
    CustomerKeyRecord,
    FingerprintEntry,
    GeneratedDataKey,
    MacKey,
    TokenRecord,
)


class KeyService(Protocol):
    """KMS. ``context`` is the KMS encryption context (bound into the wrapped key)."""

    def generate_data_key(self, context: Mapping[str, str]) -> GeneratedDataKey:
        """A fresh AES-256 data key under the current key. Raises VaultUnavailableError."""
        ...

    def decrypt_data_key(
        self, kms_key_id: str, wrapped: bytes, context: Mapping[str, str]
    ) -> bytes:
        """Unwrap a data key. Raises VaultRecordTamperedError when KMS refuses the ciphertext
        or context, VaultUnavailableError on any other failure."""
        ...

    def generate_mac(self, key: MacKey, message: bytes) -> bytes:
        """HMAC-SHA-256 of ``message`` under the KMS HMAC key ``key`` names (deterministic).
        The key never leaves KMS: every MAC is one logged KMS call."""
        ...


class VaultStore(Protocol):
    """The vault table. Writes that create are conditional: a clash returns False/the winner.

    A token is unique within its tenant (finding 4): two tenants may hold the same
    format-preserving token, each for its own card, so records are read and deleted by tenant
    and token. A store may return a record of another tenant for a token (one written before
    tokens were per tenant); the service checks the record's tenant.
    """

    def get_token(self, tenant_id: str, token: str) -> TokenRecord | None: ...

    def put_token_if_absent(self, record: TokenRecord) -> bool:
        """Write a new record unless its tenant already has the token. False on a clash. The
        record stands only while the customer key it was sealed under (``customer_key_id``)
        exists: when it is gone, the write is taken back and CustomerKeyErasedError raised, so a
        container holding an erased key in its cache cannot leave an undecryptable record
        behind (an adapter may check the key after writing, and delete what it wrote)."""
        ...

    def replace_token(self, record: TokenRecord, expected_wrapped_data_key: bytes) -> bool:
        """Overwrite an existing record if it still carries ``expected_wrapped_data_key``."""
        ...

    def delete_token(self, tenant_id: str, token: str) -> bool:
        """Delete the tenant's record; False when it was already gone (used to consume
        single-use tokens)."""
        ...

    def find_by_fingerprint(
        self, tenant_id: str, scope: str, token_format: str, fingerprint: str
    ) -> str | None: ...

    def claim_fingerprint(self, entry: FingerprintEntry) -> str | None:
        """Write the index entry unless one exists; None on success, else the existing token."""
        ...

    def release_fingerprint(self, entry: FingerprintEntry) -> None:
        """Delete the index entry if it still points at ``entry.token``."""
        ...

    def get_customer_key(self, tenant_id: str, scope: str) -> CustomerKeyRecord | None: ...

    def put_customer_key_if_absent(self, record: CustomerKeyRecord) -> bool: ...

    def replace_customer_key(
        self, record: CustomerKeyRecord, expected_wrapped_data_key: bytes
    ) -> bool: ...

    def delete_customer_key(self, tenant_id: str, scope: str) -> bool: ...

    def purge_customer(self, tenant_id: str, scope: str) -> int:
        """Delete every token record and index entry of the customer; return the count."""
        ...

    def scan_tokens(self) -> Iterator[TokenRecord]: ...

    def scan_customer_keys(self) -> Iterator[CustomerKeyRecord]: ...


class ClassCounter(Protocol):
    """Counters of new cards per tenant and card class (``limits.py``), shared by every
    container: the tokenize rate limit must hold across containers, not per container."""

    def class_count(self, key: str) -> int:
        """The current count under ``key`` (0 when there is none)."""
        ...

    def add_to_class_count(self, key: str, expires_at: int) -> int:
        """Add one, atomically; the counter may be forgotten after ``expires_at``."""
        ...


class AuditSink(Protocol):
    def emit(self, event: AuditEvent) -> None: ...


class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the epoch (UTC)."""
        ...


class RandomSource(Protocol):
    def token_bytes(self, n: int) -> bytes: ...

    def randbelow(self, n: int) -> int: ...


class SystemClock:
    def time(self) -> float:
        return time.time()


class SystemRandom:
    """The operating system's CSPRNG (``secrets``)."""

    def token_bytes(self, n: int) -> bytes:
        return secrets.token_bytes(n)

    def randbelow(self, n: int) -> int:
        return secrets.randbelow(n)
