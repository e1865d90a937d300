"""In-memory fakes of the vault's ports (tests and benchmarks only; not shipped)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections import Counter
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from functions.domain.vault import (
    AuditEvent,
    CustomerKeyErasedError,
    CustomerKeyRecord,
    FingerprintEntry,
    GeneratedDataKey,
    MacKey,
    TokenFormat,
    TokenRecord,
    VaultRecordTamperedError,
    VaultUnavailableError,
)
from functions.domain.vault.tokens import token_format_of


@dataclass
class FakeKms:
    """Wraps data keys with AES-GCM under a per-key master; the context is the AAD, as in KMS.

    Counts every call, and data-key calls also per context purpose (``by_purpose``, keyed
    ``("generate_data_key" | "decrypt", <vault context value>)``). ``rotate_to`` switches the
    key new data keys are generated under.
    """

    key_id: str = "arn:aws:kms:eu-west-1:111122223333:key/fake-1"
    calls: dict[str, int] = field(
        default_factory=lambda: {"generate_data_key": 0, "decrypt": 0, "generate_mac": 0}
    )
    by_purpose: Counter[tuple[str, str]] = field(default_factory=Counter)
    _masters: dict[str, bytes] = field(default_factory=dict, repr=False)
    # What was MACed, under which key: tests check that no MAC is of a public message.
    mac_messages: list[tuple[MacKey, bytes]] = field(default_factory=list, repr=False)
    _mac_keys: dict[MacKey, bytes] = field(
        default_factory=lambda: {k: os.urandom(32) for k in MacKey}, repr=False
    )

    def __post_init__(self) -> None:
        self._masters.setdefault(self.key_id, os.urandom(32))

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def rotate_to(self, key_id: str) -> None:
        self._masters.setdefault(key_id, os.urandom(32))
        self.key_id = key_id

    def generate_data_key(self, context: Mapping[str, str]) -> GeneratedDataKey:
        self.calls["generate_data_key"] += 1
        self.by_purpose["generate_data_key", context.get("vault", "")] += 1
        plaintext = os.urandom(32)
        nonce = os.urandom(12)
        aad = json.dumps(dict(context), sort_keys=True).encode()
        header = self.key_id.encode() + b"|"
        blob = header + nonce + AESGCM(self._masters[self.key_id]).encrypt(nonce, plaintext, aad)
        return GeneratedDataKey(plaintext=plaintext, wrapped=blob, key_id=self.key_id)

    def decrypt_data_key(
        self, kms_key_id: str, wrapped: bytes, context: Mapping[str, str]
    ) -> bytes:
        self.calls["decrypt"] += 1
        self.by_purpose["decrypt", context.get("vault", "")] += 1
        header, _, rest = wrapped.partition(b"|")
        if header.decode(errors="replace") != kms_key_id or kms_key_id not in self._masters:
            raise VaultRecordTamperedError()
        aad = json.dumps(dict(context), sort_keys=True).encode()
        try:
            return AESGCM(self._masters[kms_key_id]).decrypt(rest[:12], rest[12:], aad)
        except (InvalidTag, ValueError):
            raise VaultRecordTamperedError() from None

    def generate_mac(self, key: MacKey, message: bytes) -> bytes:
        self.calls["generate_mac"] += 1
        self.by_purpose["generate_mac", key.value] += 1
        self.mac_messages.append((key, message))
        return hmac.new(self._mac_keys[key], message, hashlib.sha256).digest()


# The kms:EncryptionContext:vault values each role's IAM policy allows
# (modules/tokenization_vault/iam.tf).
TOKENIZE_DECRYPT = frozenset({"customer-key"})
DETOKENIZE_DECRYPT = frozenset({"data-key", "customer-key"})
VAULT_CONTEXTS = frozenset({"data-key", "customer-key"})


@dataclass
class RoleKms:
    """One IAM role's view of a ``FakeKms``: KMS refuses what the role's policy does not allow.

    Decrypt is allowed only when the request's ``vault`` context value is in
    ``decrypt_contexts``, GenerateDataKey only in ``generate_contexts``. A refusal is KMS's
    AccessDeniedException, which ``KmsKeyService`` maps to ``VaultUnavailableError``; it is
    also recorded in ``denied`` so tests can tell it from any other failure.
    """

    kms: FakeKms
    decrypt_contexts: frozenset[str]
    generate_contexts: frozenset[str] = VAULT_CONTEXTS
    denied: list[tuple[str, str]] = field(default_factory=list)

    def generate_data_key(self, context: Mapping[str, str]) -> GeneratedDataKey:
        if context.get("vault", "") not in self.generate_contexts:
            self.denied.append(("generate_data_key", context.get("vault", "")))
            raise VaultUnavailableError()
        return self.kms.generate_data_key(context)

    def decrypt_data_key(
        self, kms_key_id: str, wrapped: bytes, context: Mapping[str, str]
    ) -> bytes:
        if context.get("vault", "") not in self.decrypt_contexts:
            self.denied.append(("decrypt", context.get("vault", "")))
            raise VaultUnavailableError()
        return self.kms.decrypt_data_key(kms_key_id, wrapped, context)

    def generate_mac(self, key: MacKey, message: bytes) -> bytes:
        return self.kms.generate_mac(key, message)


class TokenTable(MutableMapping[str, TokenRecord]):
    """Token records keyed per tenant, as the vault's namespace is: ``(tenant, token)``.

    Tests may also use a bare token as the key when one tenant holds it: reading it, or
    replacing the record stored there (an edit of the item, which keeps its key whatever the new
    record's tenant says). Iterating yields bare tokens.
    """

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], TokenRecord] = {}
        # The tenants holding each bare token: a lookup by bare token scanned every record,
        # which made the 20,000-card KMS budget test quadratic.
        self._tenants: dict[str, set[str]] = {}

    def _find(self, key: str | tuple[str, str]) -> tuple[str, str] | None:
        if isinstance(key, tuple):
            return key if key in self._items else None
        held = self._tenants.get(key, set())
        if len(held) > 1:
            raise KeyError(f"{key!r} is held by several tenants: index by (tenant, token)")
        return (next(iter(held)), key) if held else None

    def _put(self, key: tuple[str, str], record: TokenRecord) -> None:
        self._items[key] = record
        self._tenants.setdefault(key[1], set()).add(key[0])

    def _drop(self, key: tuple[str, str]) -> TokenRecord:
        record = self._items.pop(key)
        tenants = self._tenants[key[1]]
        tenants.discard(key[0])
        if not tenants:
            del self._tenants[key[1]]
        return record

    def __getitem__(self, key: str | tuple[str, str]) -> TokenRecord:
        found = self._find(key)
        if found is None:
            raise KeyError(key)
        return self._items[found]

    def __setitem__(self, key: str | tuple[str, str], record: TokenRecord) -> None:
        found = self._find(key)
        if found is None:
            found = key if isinstance(key, tuple) else (record.tenant_id, key)
        self._put(found, record)

    def __delitem__(self, key: str | tuple[str, str]) -> None:
        found = self._find(key)
        if found is None:
            raise KeyError(key)
        self._drop(found)

    def __iter__(self) -> Iterator[str]:
        return (token for _, token in list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def by_tenant(self, tenant_id: str, token: str) -> TokenRecord | None:
        return self._items.get((tenant_id, token))

    def pop_by_tenant(self, tenant_id: str, token: str) -> TokenRecord | None:
        return self._drop((tenant_id, token)) if (tenant_id, token) in self._items else None

    def held_by_any_tenant(self, token: str) -> TokenRecord | None:
        tenants = self._tenants.get(token)
        return self._items[(next(iter(tenants)), token)] if tenants else None

    def items_by_key(self) -> list[tuple[tuple[str, str], TokenRecord]]:
        return list(self._items.items())


class InMemoryVaultStore:
    def __init__(self) -> None:
        self.tokens = TokenTable()
        self.fingerprints: dict[tuple[str, str, str, str], FingerprintEntry] = {}
        self.customer_keys: dict[tuple[str, str], CustomerKeyRecord] = {}

    # Like the table (functions/adapters/vault_table.py): format-preserving tokens are unique
    # per tenant, opaque tokens (128 random bits) in one namespace, so an opaque token read
    # under another tenant finds the other tenant's record (audited as a tenant mismatch).

    def get_token(self, tenant_id: str, token: str) -> TokenRecord | None:
        found = self.tokens.by_tenant(tenant_id, token)
        if found is None and token_format_of(token) is TokenFormat.OPAQUE:
            found = self.tokens.held_by_any_tenant(token)
        return found

    def put_token_if_absent(self, record: TokenRecord) -> bool:
        if self.get_token(record.tenant_id, record.token) is not None:
            return False
        ck = self.customer_keys.get((record.tenant_id, record.scope))
        if ck is None or ck.key_id != record.customer_key_id:
            raise CustomerKeyErasedError()
        self.tokens[(record.tenant_id, record.token)] = record
        return True

    def replace_token(self, record: TokenRecord, expected_wrapped_data_key: bytes) -> bool:
        current = self.tokens.by_tenant(record.tenant_id, record.token)
        if current is None or current.key.wrapped_data_key != expected_wrapped_data_key:
            return False
        self.tokens[(record.tenant_id, record.token)] = record
        return True

    def delete_token(self, tenant_id: str, token: str) -> bool:
        return self.tokens.pop_by_tenant(tenant_id, token) is not None

    def find_by_fingerprint(
        self, tenant_id: str, scope: str, token_format: str, fingerprint: str
    ) -> str | None:
        entry = self.fingerprints.get((tenant_id, scope, str(token_format), fingerprint))
        return None if entry is None else entry.token

    def claim_fingerprint(self, entry: FingerprintEntry) -> str | None:
        key = (entry.tenant_id, entry.scope, str(entry.token_format), entry.fingerprint)
        existing = self.fingerprints.get(key)
        if existing is not None:
            return existing.token
        self.fingerprints[key] = entry
        return None

    def release_fingerprint(self, entry: FingerprintEntry) -> None:
        key = (entry.tenant_id, entry.scope, str(entry.token_format), entry.fingerprint)
        existing = self.fingerprints.get(key)
        if existing is not None and existing.token == entry.token:
            del self.fingerprints[key]

    def get_customer_key(self, tenant_id: str, scope: str) -> CustomerKeyRecord | None:
        return self.customer_keys.get((tenant_id, scope))

    def put_customer_key_if_absent(self, record: CustomerKeyRecord) -> bool:
        key = (record.tenant_id, record.scope)
        if key in self.customer_keys:
            return False
        self.customer_keys[key] = record
        return True

    def replace_customer_key(
        self, record: CustomerKeyRecord, expected_wrapped_data_key: bytes
    ) -> bool:
        current = self.customer_keys.get((record.tenant_id, record.scope))
        if current is None or current.key.wrapped_data_key != expected_wrapped_data_key:
            return False
        self.customer_keys[(record.tenant_id, record.scope)] = record
        return True

    def delete_customer_key(self, tenant_id: str, scope: str) -> bool:
        return self.customer_keys.pop((tenant_id, scope), None) is not None

    def purge_customer(self, tenant_id: str, scope: str) -> int:
        tokens = [
            key
            for key, r in self.tokens.items_by_key()
            if r.tenant_id == tenant_id and r.scope == scope
        ]
        entries = [k for k in self.fingerprints if k[0] == tenant_id and k[1] == scope]
        for key in tokens:
            del self.tokens[key]
        for k in entries:
            del self.fingerprints[k]
        return len(tokens) + len(entries)

    def scan_tokens(self) -> Iterator[TokenRecord]:
        yield from [record for _, record in self.tokens.items_by_key()]

    def scan_customer_keys(self) -> Iterator[CustomerKeyRecord]:
        yield from list(self.customer_keys.values())


class InMemoryClassCounter:
    """The tokenize rate limit's shared counters (``ClassCounter``), in memory."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.expiries: dict[str, int] = {}

    def class_count(self, key: str) -> int:
        return self.counts.get(key, 0)

    def add_to_class_count(self, key: str, expires_at: int) -> int:
        self.counts[key] = self.counts.get(key, 0) + 1
        self.expiries[key] = expires_at
        return self.counts[key]


class ListAuditSink:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def emit(self, event: AuditEvent) -> None:
        self.events.append(event)


class FakeClock:
    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self.now = start

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
