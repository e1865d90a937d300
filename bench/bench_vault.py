"""Tokenization vault: KMS calls per 1,000 tokenizations and in-process latency.

KMS and DynamoDB are replaced by in-memory fakes (``tests/unit/vault/fakes.py``) so only the
vault's own code is timed. Each side runs with its role's KMS permissions enforced
(``RoleKms``): tokenize may Decrypt only ``vault = customer-key``, detokenize both contexts.
The naive reference path, one KMS Encrypt per card as in the public AWS serverless
tokenization sample, is implemented here only, for the side-by-side ratio.

KMS calls are split by what they are for: encryption (GenerateDataKey and Decrypt, bounded by
the data-key caches), fingerprints (one GenerateMac over each card, per tokenization) and card
keys (one GenerateMac over each new card, for the risk side). The MACs are per card by design
(docs/decisions/vault-fingerprinting.md): no secret that could test a guessed card offline
exists outside KMS.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from functions.domain.cards import luhn_valid, validate_pan
from functions.domain.vault import Caller, Vault
from tests.unit.vault.fakes import (
    DETOKENIZE_DECRYPT,
    TOKENIZE_DECRYPT,
    FakeClock,
    FakeKms,
    InMemoryVaultStore,
    ListAuditSink,
    RoleKms,
)

CALLER = Caller("bench", frozenset({"vault:detokenize"}))
STEADY_STATE = 10_000
TIMED = 5_000
WARM_UP = 500
CUSTOMERS = 100
COLD = 1_000


def _pan(i: int) -> str:
    body = f"4{i:014d}"
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


class _NaiveKms:
    """KMS Encrypt of the card itself, one call per card (4 KB plaintext limit, no caching)."""

    def __init__(self) -> None:
        self.calls = 0
        self._key = AESGCM(os.urandom(32))

    def encrypt(self, plaintext: bytes, context: Mapping[str, str]) -> bytes:
        self.calls += 1
        nonce = os.urandom(12)
        return nonce + self._key.encrypt(nonce, plaintext, repr(sorted(context.items())).encode())


def _naive_tokenize(kms: _NaiveKms, store: dict[str, bytes], tenant: str, number: str) -> str:
    pan, _ = validate_pan(number)
    token = "tok_" + os.urandom(16).hex()
    store[token] = kms.encrypt(pan.encode(), {"tenant_id": tenant})
    return token


def _percentile(samples: list[int], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000.0


def run() -> dict[str, dict[str, float | str]]:
    kms, clock, store, audit = FakeKms(), FakeClock(), InMemoryVaultStore(), ListAuditSink()
    tokenize_kms = RoleKms(kms, TOKENIZE_DECRYPT)
    vault = Vault(tokenize_kms, store, audit, clock=clock)
    for i in range(WARM_UP):
        vault.tokenize("ten_bench", _pan(10_000_000 + i), customer_id=f"cus_{i % CUSTOMERS}")
    before = kms.total_calls
    before_purpose = kms.by_purpose.copy()
    for i in range(STEADY_STATE):
        vault.tokenize("ten_bench", _pan(i), customer_id=f"cus_{i % CUSTOMERS}")
        clock.advance(0.01)  # 100 tokenizations per second
    kms_per_1000 = (kms.total_calls - before) * 1000 / STEADY_STATE
    used = kms.by_purpose - before_purpose
    fingerprint_per_1000 = used["generate_mac", "fingerprint"] * 1000 / STEADY_STATE
    card_key_per_1000 = used["generate_mac", "card-key"] * 1000 / STEADY_STATE
    encryption_per_1000 = (
        sum(n for (op, _), n in used.items() if op != "generate_mac") * 1000 / STEADY_STATE
    )

    # Repeat tokenizations of cards already in the vault (a returning customer): the
    # fingerprint is still one KMS call (it is how the card is found), the card key comes from
    # the stored record.
    before_purpose = kms.by_purpose.copy()
    for i in range(STEADY_STATE):
        vault.tokenize("ten_bench", _pan(i), customer_id=f"cus_{i % CUSTOMERS}")
        clock.advance(0.01)
    repeat = kms.by_purpose - before_purpose
    repeat_per_1000 = sum(repeat.values()) * 1000 / STEADY_STATE

    # A cold tokenize container joining: every customer key already exists (made by another
    # container), so it needs one Decrypt (customer-key) per tenant wrapping key on top of its
    # own record data key and fingerprint secret.
    cold = Vault(RoleKms(kms, TOKENIZE_DECRYPT), store, audit, clock=clock)
    before = kms.total_calls
    for i in range(COLD):
        cold.tokenize("ten_bench", _pan(30_000_000 + i), customer_id=f"cus_{i % CUSTOMERS}")
    cold_calls = kms.total_calls - before
    assert tokenize_kms.denied == [], "tokenize must never need Decrypt with vault = data-key"

    naive = _NaiveKms()
    naive_store: dict[str, bytes] = {}
    for i in range(STEADY_STATE):
        _naive_tokenize(naive, naive_store, "ten_bench", _pan(i))
    naive_per_1000 = naive.calls * 1000 / STEADY_STATE

    tokenize_ns: list[int] = []
    tokens: list[str] = []
    for i in range(TIMED):
        number = _pan(20_000_000 + i)
        start = time.perf_counter_ns()
        result = vault.tokenize("ten_bench", number, customer_id=f"cus_{i % 100}")
        tokenize_ns.append(time.perf_counter_ns() - start)
        tokens.append(result.token)
    reader_kms = RoleKms(kms, DETOKENIZE_DECRYPT, generate_contexts=frozenset())
    reader = Vault(reader_kms, store, audit, clock=clock)
    for token in tokens[:WARM_UP]:
        reader.detokenize("ten_bench", token, caller=CALLER, purpose="bench")
    detokenize_ns: list[int] = []
    for token in tokens:
        start = time.perf_counter_ns()
        reader.detokenize("ten_bench", token, caller=CALLER, purpose="bench")
        detokenize_ns.append(time.perf_counter_ns() - start)
    assert reader_kms.denied == []

    return {
        "vault_kms_calls_per_1000_tokenize": {"value": round(kms_per_1000, 3), "unit": "calls"},
        "vault_kms_encryption_calls_per_1000_tokenize": {
            "value": round(encryption_per_1000, 3),
            "unit": "calls",
        },
        "vault_kms_fingerprint_calls_per_1000_tokenize": {
            "value": round(fingerprint_per_1000, 3),
            "unit": "calls",
        },
        "vault_kms_card_key_calls_per_1000_tokenize": {
            "value": round(card_key_per_1000, 3),
            "unit": "calls",
        },
        "vault_kms_calls_per_1000_repeat_tokenize": {
            "value": round(repeat_per_1000, 3),
            "unit": "calls",
        },
        "vault_kms_calls_cold_tokenize_container_first_1000": {
            "value": float(cold_calls),
            "unit": "calls",
        },
        "vault_naive_kms_calls_per_1000_tokenize": {
            "value": round(naive_per_1000, 3),
            "unit": "calls",
        },
        "vault_tokenize_us_p50": {"value": _percentile(tokenize_ns, 0.50), "unit": "us"},
        "vault_tokenize_us_p99": {"value": _percentile(tokenize_ns, 0.99), "unit": "us"},
        "vault_detokenize_us_p99": {"value": _percentile(detokenize_ns, 0.99), "unit": "us"},
    }
