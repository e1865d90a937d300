"""Builders shared by the vault tests."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

from hypothesis import strategies as st

from functions.domain.cards import luhn_valid
from functions.domain.vault import Caller, Vault, VaultSettings
from tests.unit.vault.fakes import (
    DETOKENIZE_DECRYPT,
    TOKENIZE_DECRYPT,
    FakeClock,
    FakeKms,
    InMemoryClassCounter,
    InMemoryVaultStore,
    ListAuditSink,
    RoleKms,
)

DETOKENIZER = Caller("arn:aws:iam::111122223333:role/detokenize", frozenset({"vault:detokenize"}))
TOKENIZER = Caller("arn:aws:iam::111122223333:role/tokenize", frozenset({"vault:tokenize"}))

# (prefix, length) pairs that validate_pan accepts: several brands and lengths.
_BRANDS = [("4", 16), ("4", 13), ("4", 19), ("51", 16), ("2221", 16), ("34", 15), ("37", 15)]
_BRANDS += [("6011", 16), ("3530", 17), ("50", 12), ("36", 14)]


def complete_luhn(body: str) -> str:
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable")


@st.composite
def pans(draw: st.DrawFn) -> str:
    prefix, length = draw(st.sampled_from(_BRANDS))
    middle = draw(
        st.text("0123456789", min_size=length - len(prefix) - 1, max_size=length - len(prefix) - 1)
    )
    return complete_luhn(prefix + middle)


class RepeatingMiddles:
    """A random source whose digits repeat every two draws of six (middles 000000 and 000001):
    a 16-digit card's class of format-preserving tokens then holds at most two, so collisions
    can be forced. For 424242…4242, 000000 makes a Luhn-valid candidate, which is redrawn: one
    token, 4242420000014242."""

    def __init__(self) -> None:
        self._digits = itertools.cycle([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])

    def token_bytes(self, n: int) -> bytes:
        return os.urandom(n)

    def randbelow(self, n: int) -> int:
        return next(self._digits) % n


@dataclass
class Harness:
    vault: Vault
    kms: FakeKms
    store: InMemoryVaultStore
    audit: ListAuditSink
    clock: FakeClock
    # The tokenize rate limit's shared counters, for vaults built with ``class_counter``.
    counter: InMemoryClassCounter


def make_harness(settings: VaultSettings | None = None, kms: FakeKms | None = None) -> Harness:
    kms = kms or FakeKms()
    store = InMemoryVaultStore()
    audit = ListAuditSink()
    clock = FakeClock()
    vault = Vault(kms, store, audit, settings=settings, clock=clock)
    return Harness(vault, kms, store, audit, clock, InMemoryClassCounter())


def cold_vault(h: Harness) -> Vault:
    """Another container: same KMS and table, empty caches."""
    return Vault(h.kms, h.store, h.audit, settings=h.vault.settings, clock=h.clock)


def tokenize_container(h: Harness) -> tuple[Vault, RoleKms]:
    """A cold tokenize container: its KMS allows Decrypt with ``vault = customer-key`` only."""
    kms = RoleKms(h.kms, TOKENIZE_DECRYPT)
    return Vault(kms, h.store, h.audit, settings=h.vault.settings, clock=h.clock), kms


def detokenize_container(h: Harness) -> tuple[Vault, RoleKms]:
    """A cold detokenize container: Decrypt with ``vault = data-key`` or ``customer-key``;
    no GenerateDataKey."""
    kms = RoleKms(h.kms, DETOKENIZE_DECRYPT, generate_contexts=frozenset())
    return Vault(kms, h.store, h.audit, settings=h.vault.settings, clock=h.clock), kms
