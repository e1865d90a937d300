"""Attacks from the 2026-11-30 security review (issue 18), each reproduced against the domain
with the in-memory fakes. Every test here failed against the vault before its fix.

Naming: ``test_f<finding>_<what the attacker tries>``; the finding numbers are the issue's.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac

import pytest

from functions.domain.cards import luhn_valid
from functions.domain.vault import (
    CustomerKeyErasedError,
    InvalidRequestError,
    MacKey,
    TokenFormat,
    TokenNotFoundError,
    Vault,
    VaultRecordTamperedError,
    VaultSettings,
    VaultUnavailableError,
)
from tests.unit.vault.helpers import (
    DETOKENIZER,
    TOKENIZER,
    Harness,
    cold_vault,
    make_harness,
    tokenize_container,
)

VISA = "4242424242424242"
OTHER_VISA = "4000056655665556"


def _offline_fingerprint(secret: bytes, pan: str) -> str:
    digest = hmac.new(secret, pan.encode(), hashlib.sha256).digest()
    return "fp_" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _candidates(pan: str) -> list[str]:
    """Luhn-valid PANs sharing first six, last four and all but two middle digits: the real one
    is among them (a narrowed version of the review's 10^5-candidate search)."""
    out = []
    for middle in range(100):
        candidate = pan[:10] + f"{middle:02d}" + pan[-4:]
        if luhn_valid(candidate):
            out.append(candidate)
    assert pan in out
    return out


# ---------------------------------------------------------------- finding 1: the HMAC secret


def test_f1_a_mac_of_a_public_message_does_not_yield_the_fingerprint_secret() -> None:
    """Review H1: secret = GenerateMac(key, "vault-fingerprint-v1\\x1f" + tenant) is a public
    message, so anyone allowed GenerateMac got the secret and brute-forced the middle digits
    offline from a stored fingerprint + first6/last4."""
    h = make_harness()
    stored = h.vault.tokenize("ten_a", VISA, token_format=TokenFormat.FORMAT_PRESERVING)
    # The attacker holds kms:GenerateMac on the fingerprint key (the tokenize role does).
    for label in (b"vault-fingerprint-v1\x1f", b"vault-fingerprint-v2\x1f", b""):
        secret = h.kms.generate_mac(MacKey.FINGERPRINT, label + b"ten_a")
        found = [
            c for c in _candidates(VISA) if _offline_fingerprint(secret, c) == stored.fingerprint
        ]
        assert found == []


def test_f1_every_fingerprint_is_one_kms_mac_over_the_card_itself() -> None:
    """The only way to a fingerprint is a KMS call that carries the PAN: one logged call per
    guess, never an offline computation."""
    h = make_harness()
    for i, pan in enumerate([VISA, OTHER_VISA, VISA]):
        h.vault.tokenize("ten_a", pan, customer_id=f"c{i}")
    fingerprint_messages = [m for key, m in h.kms.mac_messages if key is MacKey.FINGERPRINT]
    assert len(fingerprint_messages) == 3
    for message, pan in zip(fingerprint_messages, [VISA, OTHER_VISA, VISA], strict=True):
        assert pan.encode() in message
    # No cache of a per-tenant secret: a second tokenize of the same card calls KMS again.
    assert h.kms.calls["generate_mac"] >= 3


def test_f1_fingerprints_stay_per_tenant_and_stable() -> None:
    h = make_harness()
    a1 = h.vault.tokenize("ten_a", VISA, customer_id="c1")
    a2 = cold_vault(h).tokenize("ten_a", VISA, customer_id="c2")
    b = h.vault.tokenize("ten_b", VISA, customer_id="c1")
    assert a1.fingerprint == a2.fingerprint != b.fingerprint
    assert h.vault.fingerprint("ten_a", VISA) == a1.fingerprint


# ---------------------------------------------------------------- finding 9: the card key


def test_f9_card_key_is_platform_wide_per_card_and_not_the_fingerprint() -> None:
    h = make_harness()
    a = h.vault.tokenize("ten_a", VISA, customer_id="c1")
    b = h.vault.tokenize("ten_b", VISA, customer_id="c2", single_use=True)
    c = h.vault.tokenize("ten_a", OTHER_VISA, customer_id="c1")
    assert a.card_key is not None and a.card_key.startswith("ck_")
    assert a.card_key == b.card_key != c.card_key
    assert a.card_key != a.fingerprint
    assert a.card_key not in (a.token, b.token)
    # Computed by KMS under its own key, over the card: never derivable offline.
    card_messages = [m for key, m in h.kms.mac_messages if key is MacKey.CARD_KEY]
    assert card_messages and all(
        VISA.encode() in m or OTHER_VISA.encode() in m for m in card_messages
    )


def test_f9_card_key_survives_deduplication_and_describe() -> None:
    h = make_harness()
    first = h.vault.tokenize("ten_a", VISA, customer_id="c1")
    assert first.card_key is not None
    again, _ = tokenize_container(h)
    second = again.tokenize("ten_a", VISA, customer_id="c1")
    assert (second.created, second.token, second.card_key) == (False, first.token, first.card_key)
    assert h.vault.describe("ten_a", first.token).card_key == first.card_key


# -------------------------------------------------- finding 7: metadata in the authenticated data


def _edit(h: Harness, token: str, **changes: object) -> None:
    h.store.tokens[token] = dataclasses.replace(h.store.tokens[token], **changes)  # type: ignore[arg-type]


def test_f7_a_single_use_token_flipped_to_reusable_no_longer_decrypts() -> None:
    h = make_harness()
    token = h.vault.tokenize("ten_a", VISA, single_use=True, ttl_seconds=600).token
    _edit(h, token, single_use=False, expires_at=None)
    with pytest.raises(VaultRecordTamperedError):
        h.vault.detokenize("ten_a", token, caller=DETOKENIZER, purpose="authorization")


@pytest.mark.parametrize(
    "changes",
    [
        {"fingerprint": "fp_forged"},
        {"token_format": TokenFormat.FORMAT_PRESERVING},
        {"last4": "0000"},
    ],
)
def test_f7_edited_record_metadata_is_detected(changes: dict[str, object]) -> None:
    h = make_harness()
    token = h.vault.tokenize("ten_a", VISA, customer_id="c1").token
    _edit(h, token, **changes)
    with pytest.raises(VaultRecordTamperedError):
        h.vault.detokenize("ten_a", token, caller=DETOKENIZER, purpose="authorization")


def test_f7_a_repointed_index_entry_never_returns_another_customers_card() -> None:
    """Review M4 (c): pointing card B's index entry of customer c2 at c1's token for card A
    made tokenize(B, c2) return c1's token: the wrong card gets charged."""
    h = make_harness()
    victim = h.vault.tokenize("ten_a", VISA, customer_id="c1")
    mine = h.vault.tokenize("ten_a", OTHER_VISA, customer_id="c2")
    key = next(k for k, e in h.store.fingerprints.items() if e.token == mine.token)
    h.store.fingerprints[key] = dataclasses.replace(h.store.fingerprints[key], token=victim.token)
    again = cold_vault(h).tokenize("ten_a", OTHER_VISA, customer_id="c2")
    assert again.token != victim.token
    assert _detok(h, again.token) == OTHER_VISA


def _detok(h: Harness, token: str) -> str:
    return h.vault.detokenize("ten_a", token, caller=DETOKENIZER, purpose="authorization").number


# ------------------------------------------------------ finding 6: erasure vs warm containers


def test_f6_a_warm_container_cannot_write_under_an_erased_customer_key() -> None:
    """Review M3: after an erasure a warm tokenize container kept sealing new records under the
    cached (erased) customer key; deduplication then returned that dead token forever."""
    h = make_harness()
    warm, _ = tokenize_container(h)
    warm.tokenize("ten_a", VISA, customer_id="c1")  # caches c1's customer key
    h.vault.erase_customer("ten_a", "c1", caller=DETOKENIZER)
    h.clock.advance(1)
    fresh = warm.tokenize("ten_a", OTHER_VISA, customer_id="c1")
    # Whatever the warm container wrote must be readable: a new customer key, not the erased one.
    assert _detok(h, fresh.token) == OTHER_VISA
    h.clock.advance(400)
    later = cold_vault(h).tokenize("ten_a", OTHER_VISA, customer_id="c1")
    assert _detok(h, later.token) == OTHER_VISA


def test_f6_deduplication_skips_a_record_whose_customer_key_is_gone() -> None:
    h = make_harness()
    dead = h.vault.tokenize("ten_a", VISA, customer_id="c1")
    # The key item is gone but the record and its index entry survived (a partial erasure, or a
    # record the GSI had not indexed yet).
    del h.store.customer_keys[("ten_a", "c1")]
    h.clock.advance(400)
    again = cold_vault(h).tokenize("ten_a", VISA, customer_id="c1")
    assert again.token != dead.token and again.created
    assert _detok(h, again.token) == VISA
    with pytest.raises((CustomerKeyErasedError, TokenNotFoundError)):
        _detok(h, dead.token)


def test_f6_a_customer_being_erased_is_not_silently_recreated_mid_write() -> None:
    """The record write is conditional on the customer key it was sealed under still existing;
    when it vanished in between, the write is refused (retryable), not left undecryptable."""
    h = make_harness()
    vault = h.vault
    vault.tokenize("ten_a", VISA, customer_id="c1")
    original = h.store.put_token_if_absent

    def erase_then_put(record):  # type: ignore[no-untyped-def]
        h.store.customer_keys.pop(("ten_a", "c1"), None)
        return original(record)

    h.store.put_token_if_absent = erase_then_put  # type: ignore[method-assign]
    with pytest.raises(InvalidRequestError):
        vault.tokenize("ten_a", OTHER_VISA, customer_id="c1")
    assert all(r.scope != "c1" or r.last4 != OTHER_VISA[-4:] for r in h.store.tokens.values())


# ---------------------------------------------------------------- finding 8: audit gaps


class _SinkFailingOnSuccess:
    def __init__(self) -> None:
        self.events: list[object] = []

    def emit(self, event: object) -> None:
        if getattr(event, "outcome", None) == "success":
            raise VaultUnavailableError()
        self.events.append(event)


def test_f8_a_single_use_token_survives_a_failed_audit() -> None:
    """Review M5: with an audit sink failing on "success", the caller got 503, the token was
    deleted and nothing was recorded."""
    h = make_harness()
    token = h.vault.tokenize("ten_a", VISA, single_use=True).token
    failing = Vault(h.kms, h.store, _SinkFailingOnSuccess(), clock=h.clock)
    with pytest.raises(VaultUnavailableError):
        failing.detokenize("ten_a", token, caller=DETOKENIZER, purpose="authorization")
    assert token in h.store.tokens  # not consumed: nothing left the vault, nothing to audit
    assert _detok(h, token) == VISA  # the next, audited, call gets it once
    assert token not in h.store.tokens


def test_f8_a_single_use_token_is_handed_out_once_under_a_race() -> None:
    h = make_harness()
    token = h.vault.tokenize("ten_a", VISA, single_use=True).token
    other = cold_vault(h)
    original = h.store.delete_token

    def consumed_meanwhile(t: str) -> bool:
        original(t)  # a concurrent call consumed it between our audit and our delete
        return original(t)

    h.store.delete_token = consumed_meanwhile  # type: ignore[method-assign]
    with pytest.raises(TokenNotFoundError):
        other.detokenize("ten_a", token, caller=DETOKENIZER, purpose="authorization")
    last = h.audit.events[-1]
    assert (last.outcome, last.reason) == ("failure", "token_not_found")


# ----------------------------------------------- finding 4: format-preserving short PANs


@pytest.mark.parametrize(
    "pan", ["500000000009", "4000000000006", "36000000000008", "378282246310005"]
)
def test_f4_a_short_pan_gets_no_format_preserving_token(pan: str) -> None:
    """Review M1: for 12-15 digits a format-preserving token left 10 to 10^4 candidates for
    the PAN (first six and last four in clear)."""
    assert luhn_valid(pan)
    h = make_harness()
    with pytest.raises(InvalidRequestError) as refused:
        h.vault.tokenize("ten_a", pan, token_format=TokenFormat.FORMAT_PRESERVING)
    assert refused.value.param == "format"
    assert h.store.tokens == {}
    assert h.vault.tokenize("ten_a", pan).token.startswith("tok_")  # opaque stays available


# ---------------------------------------------------------------- finding 11: smaller ones


@pytest.mark.parametrize(
    "purpose", ["pan-4111-1111-1111-1111", "pan:4111.1111.1111.1111", "x4111_1111_1111_1111"]
)
def test_f11_a_card_number_in_the_purpose_never_reaches_the_audit_trail(purpose: str) -> None:
    """Review L1: only unbroken runs of 12+ digits were refused, and the purpose was audited
    even for a refused caller."""
    h = make_harness()
    token = h.vault.tokenize("ten_a", VISA).token
    with pytest.raises(InvalidRequestError):
        h.vault.detokenize("ten_a", token, caller=TOKENIZER, purpose=purpose)
    assert all(e.purpose is None or "4111" not in e.purpose for e in h.audit.events)


def test_f11_ciphertext_length_does_not_reveal_the_pan_length() -> None:
    h = make_harness()
    lengths = {
        len(h.store.tokens[h.vault.tokenize("ten_a", pan).token].ciphertext)
        for pan in (VISA, "378282246310005", "36000000000008", "4000000000006")
    }
    assert len(lengths) == 1


def test_f11_rewrap_removes_records_an_erasure_missed_without_a_tamper_alarm() -> None:
    """Review L4: records left by an erasure (the index had not listed them yet) were reported
    as vault_record_tampered on every rewrap, a false tamper alarm; they are shredded data."""
    h = make_harness()
    token = h.vault.tokenize("ten_a", VISA, customer_id="c1").token
    left_behind = h.store.tokens[token]
    h.vault.erase_customer("ten_a", "c1", caller=DETOKENIZER)
    h.store.tokens[token] = left_behind
    report = h.vault.rewrap(caller=DETOKENIZER, issued_before=int(h.clock.now) + 1)
    assert (report.failed, report.orphaned) == (0, 1)
    assert report.event.outcome == "success" and report.event.reason is None
    assert token not in h.store.tokens


def test_f11_data_key_uses_are_bounded() -> None:
    with pytest.raises(ValueError, match="data_key_max_uses"):
        VaultSettings.from_env({"VAULT_DATA_KEY_MAX_USES": str(10**12)})
