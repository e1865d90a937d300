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
    ClassLimit,
    CustomerKeyErasedError,
    DetokenizeNotPermittedError,
    InvalidRequestError,
    MacKey,
    TokenFormat,
    TokenizeRateLimitedError,
    TokenNotFoundError,
    TokenSpaceExhaustedError,
    Vault,
    VaultRecordTamperedError,
    VaultSettings,
    VaultUnavailableError,
)
from functions.domain.vault.limits import card_class, class_window
from tests.unit.vault.helpers import (
    DETOKENIZER,
    TOKENIZER,
    Harness,
    RepeatingMiddles,
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

    def consumed_meanwhile(tenant_id: str, token: str) -> bool:
        original(tenant_id, token)  # a concurrent call consumed it between our audit and delete
        return original(tenant_id, token)

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


def test_f4_one_tenant_cannot_exhaust_another_tenants_format_preserving_class() -> None:
    """Review M4 (second half): the token namespace was global, so tenant A's tokens of a 6+4
    class were taken for every tenant; A exhausted the class for B in 84 calls. Forced here:
    both tenants draw the same two middles, which A takes first."""
    h = make_harness()
    settings = VaultSettings(fpe_max_attempts=2)

    def vault_drawing_two_middles() -> Vault:
        return Vault(
            h.kms, h.store, h.audit, settings=settings, clock=h.clock, random=RepeatingMiddles()
        )

    fpe = TokenFormat.FORMAT_PRESERVING
    a_vault = vault_drawing_two_middles()
    a_token = a_vault.tokenize("ten_a", VISA, token_format=fpe, single_use=True).token
    with pytest.raises(TokenSpaceExhaustedError):  # every draw is now A's token: A's class is full
        a_vault.tokenize("ten_a", VISA, token_format=fpe, single_use=True)

    b_card = _same_class_candidates(VISA)[0]  # another card of the same 6+4 class
    b = vault_drawing_two_middles().tokenize("ten_b", b_card, token_format=fpe)
    assert b.token == a_token  # the same token value, in B's own namespace
    for tenant in ("ten_a", "ten_b"):
        assert h.vault.describe(tenant, a_token).tenant_id == tenant
    revealed = h.vault.detokenize("ten_b", b.token, caller=DETOKENIZER, purpose="authorization")
    assert revealed.number == b_card
    # A's record under the same token value is A's card, untouched.
    assert h.vault.detokenize("ten_a", a_token, caller=DETOKENIZER, purpose="x").number == VISA


# --------------------------------------------- finding 5: tokenize as a card-testing oracle


def _class_limited(h: Harness, max_new_cards: int = 5, window: int = 3600) -> Vault:
    """A tokenize container with the shared class counters, as the tokenize function has."""
    settings = VaultSettings(class_limit=ClassLimit(max_new_cards, window))
    return Vault(h.kms, h.store, h.audit, settings=settings, clock=h.clock, class_counter=h.counter)


def _same_class_candidates(pan: str) -> list[str]:
    """Luhn-valid cards with the first six and last four of ``pan``, ``pan`` itself last: the
    enumeration of the review (568 calls recovered a 14-digit card)."""
    out = []
    for middle in range(10**6):
        candidate = pan[:6] + f"{middle:06d}" + pan[-4:]
        if candidate != pan and luhn_valid(candidate):
            out.append(candidate)
        if len(out) == 40:
            break
    return [*out, pan]


def test_f5_enumerating_a_card_class_is_refused_before_the_oracle_answers() -> None:
    """Review M5 (second half): with deduplication, tokenizing candidates for the victim's
    customer until the victim's token comes back recovers the card. The class (tenant, first
    six, last four, length) is refused after five new cards, and the real card is refused too,
    so the refusal is no oracle."""
    h = make_harness()
    victim = h.vault.tokenize("ten_a", VISA, customer_id="victim").token
    attacker = _class_limited(h)
    answers: list[str] = []
    refusals: list[TokenizeRateLimitedError] = []
    for candidate in _same_class_candidates(VISA):
        try:
            answers.append(attacker.tokenize("ten_a", candidate, customer_id="victim").token)
        except TokenizeRateLimitedError as exc:
            refusals.append(exc)
    assert victim not in answers  # the enumeration never found the card
    assert len(answers) == 5 and len(refusals) == 36
    for refusal in refusals:
        assert (refusal.http_status, refusal.public_code) == (429, "tokenize_rate_limited")
        assert not any(c.isdigit() for c in refusal.message)  # no card, class or count
    # Refused before the card is looked up: no KMS MAC, no read, for a refused guess.
    macs = h.kms.calls["generate_mac"]
    with pytest.raises(TokenizeRateLimitedError):
        attacker.tokenize("ten_a", VISA, customer_id="victim")
    assert h.kms.calls["generate_mac"] == macs


def test_f5_returning_cards_do_not_count_and_other_classes_and_tenants_are_free() -> None:
    h = make_harness()
    vault = _class_limited(h, max_new_cards=2)
    for _ in range(50):  # a returning card (deduplicated) is not a new card
        vault.tokenize("ten_a", VISA, customer_id="c1")
    candidates = _same_class_candidates(VISA)
    vault.tokenize("ten_a", candidates[0], customer_id="c1")  # the second new card
    with pytest.raises(TokenizeRateLimitedError):
        vault.tokenize("ten_a", candidates[1], customer_id="c1")
    with pytest.raises(TokenizeRateLimitedError):  # the class is closed, known cards included
        vault.tokenize("ten_a", VISA, customer_id="c1")
    assert vault.tokenize("ten_b", candidates[1], customer_id="c1").created  # another tenant
    assert vault.tokenize("ten_a", OTHER_VISA, customer_id="c1").created  # another class
    h.clock.advance(3600)  # the next window
    assert vault.tokenize("ten_a", candidates[1], customer_id="c1").created


def test_f5_single_use_tokens_count_as_new_cards() -> None:
    h = make_harness()
    vault = _class_limited(h, max_new_cards=3)
    for _ in range(3):
        vault.tokenize("ten_a", VISA, single_use=True)
    with pytest.raises(TokenizeRateLimitedError):
        vault.tokenize("ten_a", VISA, single_use=True)


@pytest.mark.parametrize(
    ("pan", "kept"),
    [
        ("4242424242424242", "16:424242:4242"),
        ("4000000000000000006", "19:400000:0006"),
        ("378282246310005", "15:378282:005"),
        ("36000000000008", "14:360000:08"),
        ("4000000000006", "13:400000:6"),
        ("500000000009", "12:500000:"),
    ],
)
def test_f5_a_card_class_keeps_at_least_six_digits_secret(pan: str, kept: str) -> None:
    assert card_class(pan) == kept
    shown = sum(c.isdigit() for c in kept.split(":", 1)[1])
    assert len(pan) - shown >= 6


def test_f5_the_counter_key_shows_no_digits_of_the_card() -> None:
    """The counter item's key is what a table read or a CloudTrail data event shows."""
    limit = ClassLimit()
    window = class_window("ten_a", VISA, 1_750_000_000.0, limit)
    assert VISA[:6] not in window.key and VISA[-4:] not in window.key
    same_class = _same_class_candidates(VISA)[0]
    assert window.key == class_window("ten_a", same_class, 1_750_000_001.0, limit).key

    assert window.key != class_window("ten_b", VISA, 1_750_000_000.0, limit).key
    assert window.expires_at > 1_750_000_000


def test_f5_class_limits_are_bounded() -> None:
    with pytest.raises(ValueError, match="max_new_cards"):
        VaultSettings.from_env({"VAULT_CLASS_LIMIT_MAX_NEW_CARDS": "0"})
    with pytest.raises(ValueError, match="window_seconds"):
        VaultSettings.from_env({"VAULT_CLASS_LIMIT_WINDOW_SECONDS": "10"})
    assert VaultSettings.from_env({"VAULT_CLASS_LIMIT_MAX_NEW_CARDS": "7"}).class_limit == (
        ClassLimit(7, 3600)
    )


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


def test_f11_a_refused_callers_purpose_is_not_audited() -> None:
    """Review L1 (second half): the purpose of a caller without the detokenize role reached the
    audit log, a seven-year store, whatever it said."""
    h = make_harness()
    token = h.vault.tokenize("ten_a", VISA).token
    with pytest.raises(DetokenizeNotPermittedError):
        h.vault.detokenize("ten_a", token, caller=TOKENIZER, purpose="pan.4242.4242")
    denied = h.audit.events[-1]
    assert (denied.outcome, denied.purpose) == ("denied", None)
    h.vault.detokenize("ten_a", token, caller=DETOKENIZER, purpose="chargeback.evidence")
    assert h.audit.events[-1].purpose == "chargeback.evidence"  # a permitted caller's is kept


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
