"""Behaviour of the vault service: errors, audit, erasure, rotation, key caches."""

from __future__ import annotations

import dataclasses

import pytest

from functions.domain.vault import (
    AuditAction,
    Caller,
    CustomerKeyErasedError,
    CustomerKeyRecord,
    DetokenizeNotPermittedError,
    InvalidCardError,
    InvalidRequestError,
    KeyPurpose,
    TokenFormat,
    TokenNotFoundError,
    TokenTenantMismatchError,
    Vault,
    VaultError,
    VaultRecordTamperedError,
    VaultSettings,
    VaultUnavailableError,
)
from functions.domain.vault.keys import (
    customer_key_aad,
    customer_key_context,
    data_key_context,
    open_sealed,
    seal,
)
from tests.unit.vault.fakes import FakeKms
from tests.unit.vault.helpers import (
    DETOKENIZER,
    TOKENIZER,
    Harness,
    RepeatingMiddles,
    cold_vault,
    complete_luhn,
    detokenize_container,
    make_harness,
    tokenize_container,
)

VISA = "4242424242424242"
MASTERCARD = "5555555555554444"


def _detok(h: Harness, token: str, tenant: str = "ten_a", caller: Caller = DETOKENIZER) -> str:
    return h.vault.detokenize(tenant, token, caller=caller, purpose="authorization").number


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("4242424242424241", "invalid_number"),
        ("4242 4242 4242 424x", "invalid_number"),
        ("42424242", "invalid_number"),
        ("9999999999999995", "unsupported_card_brand"),
    ],
)
def test_malformed_pan_is_refused_without_echoing_it(number: str, code: str) -> None:
    h = make_harness()
    with pytest.raises(InvalidCardError) as caught:
        h.vault.tokenize("ten_a", number)
    assert (caught.value.code, caught.value.http_status) == (code, 400)
    assert caught.value.param == "payment_method.card.number"
    assert number not in str(caught.value)
    assert number not in repr(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert h.store.tokens == {}


def test_cvc_is_checked_then_never_stored() -> None:
    h = make_harness()
    with pytest.raises(InvalidCardError, match="security code") as caught:
        h.vault.tokenize("ten_a", VISA, cvc="12")
    assert caught.value.code == "invalid_cvc"
    result = h.vault.tokenize("ten_a", VISA, cvc="987")
    record = h.store.tokens[result.token]
    assert b"987" not in record.ciphertext
    assert "987" not in repr(record)
    for f in dataclasses.fields(record):
        assert "987" not in str(getattr(record, f.name)) or f.name in ("nonce", "ciphertext")


def test_unknown_token_and_foreign_token_look_the_same() -> None:
    h = make_harness()
    token = h.vault.tokenize("ten_a", VISA).token
    with pytest.raises(TokenNotFoundError) as unknown:
        _detok(h, "tok_AAAAAAAAAAAAAAAAAAAAAA")
    with pytest.raises(TokenTenantMismatchError) as foreign:
        _detok(h, token, tenant="ten_b")
    for exc in (unknown.value, foreign.value):
        assert (exc.public_code, exc.http_status, exc.message) == (
            "token_not_found",
            404,
            "No such token.",
        )
    assert foreign.value.code == "token_tenant_mismatch"
    reasons = [e.reason for e in h.audit.events]
    assert reasons == ["token_not_found", "token_tenant_mismatch"]


def test_detokenize_without_role_is_denied_and_audited() -> None:
    h = make_harness()
    token = h.vault.tokenize("ten_a", VISA).token
    with pytest.raises(DetokenizeNotPermittedError) as caught:
        _detok(h, token, caller=TOKENIZER)
    assert (caught.value.code, caught.value.http_status) == ("detokenize_not_permitted", 403)
    event = h.audit.events[-1]
    assert (event.outcome, event.actor, event.token) == ("denied", TOKENIZER.principal, token)
    assert h.kms.calls["decrypt"] == 0


def test_every_detokenize_is_audited_without_the_card_number() -> None:
    h = make_harness()
    token = h.vault.tokenize("ten_a", VISA, customer_id="cus_1").token
    out = h.vault.detokenize(
        "ten_a", token, caller=DETOKENIZER, purpose="chargeback.evidence", request_id="req-1"
    )
    assert out.number == VISA
    assert VISA not in repr(out)
    event = h.audit.events[-1]
    assert event.to_dict() | {"at": None} == {
        "action": "detokenize",
        "tenant_id": "ten_a",
        "actor": DETOKENIZER.principal,
        "at": None,
        "outcome": "success",
        "reason": None,
        "token": token,
        "purpose": "chargeback.evidence",
        "customer_id": "cus_1",
        "request_id": "req-1",
        "details": {"single_use": 0},
    }
    assert event.at.timestamp() == h.clock.now


def test_a_card_number_sent_as_token_never_reaches_the_audit_trail() -> None:
    h = make_harness()
    with pytest.raises(TokenNotFoundError):
        _detok(h, VISA)
    assert h.audit.events[-1].token is None
    assert VISA not in repr(h.audit.events)
    assert VISA not in str(h.audit.events[-1].to_dict())


def test_bad_purpose_is_refused() -> None:
    h = make_harness()
    token = h.vault.tokenize("ten_a", VISA).token
    for purpose in ("", "Has Spaces", "x" * 65, "ref" + VISA):
        with pytest.raises(InvalidRequestError):
            h.vault.detokenize("ten_a", token, caller=DETOKENIZER, purpose=purpose)
    assert all(e.purpose is None for e in h.audit.events)


def test_tampered_wrapped_key_or_moved_record_is_reported() -> None:
    h = make_harness()
    a = h.vault.tokenize("ten_a", VISA).token
    b = h.vault.tokenize("ten_b", MASTERCARD).token
    rec_a, rec_b = h.store.tokens[a], h.store.tokens[b]
    # record b's encrypted fields moved under token a: tenant/token binding breaks
    h.store.tokens[a] = dataclasses.replace(
        rec_a, key=rec_b.key, nonce=rec_b.nonce, ciphertext=rec_b.ciphertext
    )
    for vault in (h.vault, cold_vault(h)):
        with pytest.raises(VaultRecordTamperedError) as caught:
            vault.detokenize("ten_a", a, caller=DETOKENIZER, purpose="authorization")
        assert (caught.value.public_code, caught.value.http_status) == ("api_error", 500)
    # a changed wrapped data key is refused by KMS (cold cache)
    broken = bytearray(rec_a.key.wrapped_data_key)
    broken[-1] ^= 1
    h.store.tokens[a] = dataclasses.replace(
        rec_a, key=dataclasses.replace(rec_a.key, wrapped_data_key=bytes(broken))
    )
    with pytest.raises(VaultRecordTamperedError):
        cold_vault(h).detokenize("ten_a", a, caller=DETOKENIZER, purpose="authorization")


def test_errors_never_carry_a_traceback_chain_or_card_data() -> None:
    h = make_harness()
    token = h.vault.tokenize("ten_a", VISA).token
    rec = h.store.tokens[token]
    h.store.tokens[token] = dataclasses.replace(rec, ciphertext=rec.ciphertext[:-1] + b"\0")
    with pytest.raises(VaultError) as caught:
        _detok(h, token)
    assert caught.value.__cause__ is None
    assert VISA not in str(caught.value)


def test_single_use_token_is_consumed() -> None:
    h = make_harness()
    token = h.vault.tokenize("ten_a", VISA, single_use=True).token
    assert _detok(h, token) == VISA
    with pytest.raises(TokenNotFoundError):
        _detok(h, token)


def test_expired_token_is_not_found() -> None:
    h = make_harness()
    token = h.vault.tokenize("ten_a", VISA, ttl_seconds=60).token
    assert h.store.tokens[token].expires_at == int(h.clock.now) + 60
    h.clock.advance(61)
    with pytest.raises(TokenNotFoundError):
        _detok(h, token)
    fresh = h.vault.tokenize("ten_a", VISA)
    assert fresh.created
    assert fresh.token != token


def test_same_card_for_two_customers_gets_two_tokens_one_fingerprint() -> None:
    h = make_harness()
    a = h.vault.tokenize("ten_a", VISA, customer_id="cus_1")
    b = h.vault.tokenize("ten_a", VISA, customer_id="cus_2")
    assert a.token != b.token
    assert a.fingerprint == b.fingerprint
    assert h.vault.fingerprint("ten_a", VISA) == a.fingerprint


def test_erasure_is_audited_idempotent_and_spares_others() -> None:
    h = make_harness()
    gone = h.vault.tokenize("ten_a", VISA, customer_id="cus_gone").token
    kept = h.vault.tokenize("ten_a", VISA, customer_id="cus_kept").token
    anonymous = h.vault.tokenize("ten_a", VISA).token
    report = h.vault.erase_customer("ten_a", "cus_gone", caller=DETOKENIZER, request_id="gdpr-7")
    assert report.customer_key_deleted
    assert report.items_deleted == 2
    assert report.event.action is AuditAction.ERASE_CUSTOMER
    assert report.event.details == {"customer_key_deleted": 1, "items_deleted": 2}
    assert h.audit.events[-1] is report.event
    with pytest.raises(TokenNotFoundError):
        _detok(h, gone)
    assert _detok(h, kept) == VISA
    assert _detok(h, anonymous) == VISA
    again = h.vault.erase_customer("ten_a", "cus_gone", caller=DETOKENIZER)
    assert (again.customer_key_deleted, again.items_deleted) == (False, 0)
    # the customer may come back: a new key, a new token
    back = h.vault.tokenize("ten_a", VISA, customer_id="cus_gone")
    assert back.created
    assert back.token != gone
    with pytest.raises(InvalidRequestError):
        h.vault.erase_customer("ten_a", "*", caller=DETOKENIZER)


def test_erased_key_is_gone_for_warm_containers_after_the_cache_bound() -> None:
    settings = VaultSettings(customer_key_cache_max_age_seconds=60)
    h = make_harness(settings)
    other_container = cold_vault(h)
    token = h.vault.tokenize("ten_a", VISA, customer_id="cus_1").token
    record = h.store.tokens[token]
    assert _detok(h, token) == VISA
    other_container.detokenize("ten_a", token, caller=DETOKENIZER, purpose="authorization")
    h.vault.erase_customer("ten_a", "cus_1", caller=DETOKENIZER)
    h.store.tokens[token] = record  # restored from a backup
    h.clock.advance(61)
    with pytest.raises(CustomerKeyErasedError):
        other_container.detokenize("ten_a", token, caller=DETOKENIZER, purpose="authorization")


def test_rotation_to_a_new_kms_key_with_reads_during_rewrap() -> None:
    h = make_harness()
    cards = {
        h.vault.tokenize(
            "ten_a", complete_luhn(f"4000{i:011d}"), customer_id=f"cus_{i % 3}"
        ).token: complete_luhn(f"4000{i:011d}")
        for i in range(30)
    }
    cards |= {h.vault.tokenize("ten_b", MASTERCARD).token: MASTERCARD}
    old_key = h.kms.key_id
    h.kms.rotate_to("arn:aws:kms:eu-west-1:111122223333:key/fake-2")
    readers = [h.vault, cold_vault(h)]

    original_replace = h.store.replace_token
    reads = 0

    def replace_then_read(record, expected):  # type: ignore[no-untyped-def]
        nonlocal reads
        ok = original_replace(record, expected)
        for token, pan in cards.items():  # every record readable mid-job, old or new
            tenant = h.store.tokens[token].tenant_id
            for reader in readers:
                got = reader.detokenize(tenant, token, caller=DETOKENIZER, purpose="rotation.check")
                assert got.number == pan
                reads += 1
        return ok

    h.store.replace_token = replace_then_read  # type: ignore[method-assign]
    report = h.vault.rewrap(caller=DETOKENIZER)
    assert report.tokens_rewrapped == 31
    assert report.customer_keys_rewrapped == 4
    assert (report.skipped, report.failed) == (0, 0)
    assert reads > 0
    assert {r.key.kms_key_id for r in h.store.tokens.values()} == {h.kms.key_id}
    assert {r.key.kms_key_id for r in h.store.customer_keys.values()} == {h.kms.key_id}
    assert old_key != h.kms.key_id
    h.store.replace_token = original_replace  # type: ignore[method-assign]
    # a second run finds nothing to do; a cold container reads everything with the new key only
    assert h.vault.rewrap(caller=DETOKENIZER).tokens_rewrapped == 0
    fresh = cold_vault(h)
    for token, pan in cards.items():
        tenant = h.store.tokens[token].tenant_id
        assert fresh.detokenize(tenant, token, caller=DETOKENIZER, purpose="x").number == pan


def test_rewrap_by_data_key_age_and_concurrent_change_is_skipped() -> None:
    h = make_harness()
    tokens = [h.vault.tokenize("ten_a", complete_luhn(f"4111{i:011d}")).token for i in range(5)]
    h.clock.advance(10)
    cutoff = int(h.clock.now)
    before = {t: h.store.tokens[t].key.wrapped_data_key for t in tokens}
    # one record changes under the job's feet: its replace must not clobber it
    original_replace = h.store.replace_token

    def racing(record, expected):  # type: ignore[no-untyped-def]
        if record.token == tokens[0]:
            h.store.tokens[tokens[0]] = dataclasses.replace(
                h.store.tokens[tokens[0]],
                key=dataclasses.replace(h.store.tokens[tokens[0]].key, wrapped_data_key=b"x"),
            )
        return original_replace(record, expected)

    h.store.replace_token = racing  # type: ignore[method-assign]
    report = h.vault.rewrap(caller=DETOKENIZER, issued_before=cutoff)
    assert (report.tokens_rewrapped, report.skipped) == (4, 1)
    for t in tokens[1:]:
        assert h.store.tokens[t].key.wrapped_data_key != before[t]
        assert h.store.tokens[t].key.issued_at >= cutoff


def test_data_key_cache_max_uses() -> None:
    h = make_harness(VaultSettings(data_key_max_uses=100))
    for i in range(1000):
        h.vault.tokenize("ten_a", complete_luhn(f"4000{i:011d}"), single_use=True)
    # one record data key use per record; one wrapping key for the anonymous customer key
    assert h.kms.by_purpose["generate_data_key", "data-key"] == 10
    assert h.kms.by_purpose["generate_data_key", "customer-key"] == 1
    assert h.kms.calls["generate_data_key"] == 11
    # One fingerprint and one card key per tokenization, computed inside KMS (finding 1): the
    # price of having no secret outside KMS that could test a guessed card offline.
    assert h.kms.by_purpose["generate_mac", "fingerprint"] == 1000
    assert h.kms.by_purpose["generate_mac", "card-key"] == 1000


def test_data_key_cache_max_age() -> None:
    h = make_harness(VaultSettings(data_key_max_age_seconds=60, data_key_max_uses=10**6))
    for i in range(600):
        h.vault.tokenize("ten_a", complete_luhn(f"4000{i:011d}"), single_use=True)
        h.clock.advance(1)
    assert h.kms.by_purpose["generate_data_key", "data-key"] == 10
    # the wrapping key is only needed to create the (one, anonymous) customer key
    assert h.kms.by_purpose["generate_data_key", "customer-key"] == 1


def test_kms_calls_per_thousand_tokenizations_at_steady_state() -> None:
    h = make_harness()
    for i in range(200):  # warm-up: first keys
        h.vault.tokenize("ten_a", complete_luhn(f"5100{i:011d}"), customer_id=f"cus_{i % 50}")
    before = h.kms.total_calls
    macs_before = h.kms.calls["generate_mac"]
    n = 20_000
    for i in range(n):
        h.vault.tokenize("ten_a", complete_luhn(f"4000{i:011d}"), customer_id=f"cus_{i % 50}")
        h.clock.advance(0.005)  # 200 tokenizations per second
    macs = h.kms.calls["generate_mac"] - macs_before
    encryption_per_thousand = (h.kms.total_calls - before - macs) * 1000 / n
    # Encryption stays cached (data keys); the MACs are per card by design: one fingerprint
    # and one card key for each new card, each inside KMS (ADR vault-fingerprinting).
    assert encryption_per_thousand <= 1.0
    assert macs == 2 * n
    # detokenize of all of them: decrypt side served from the unwrapped-key cache
    before = h.kms.calls["decrypt"]
    for record in list(h.store.tokens.values())[:2000]:
        h.vault.detokenize("ten_a", record.token, caller=DETOKENIZER, purpose="x")
    assert h.kms.calls["decrypt"] - before <= 2


def test_decrypt_cache_is_bounded() -> None:
    h = make_harness(VaultSettings(data_key_max_uses=1, decrypt_cache_size=4))
    tokens = [h.vault.tokenize("ten_a", complete_luhn(f"4000{i:011d}")).token for i in range(20)]
    before = h.kms.calls["decrypt"]
    for token in tokens:
        _detok(h, token)
    assert h.kms.calls["decrypt"] - before >= 16


def test_format_preserving_collisions_are_retried_then_refused() -> None:
    h = make_harness()
    vault = Vault(
        h.kms,
        h.store,
        h.audit,
        settings=VaultSettings(fpe_max_attempts=2),
        clock=h.clock,
        random=RepeatingMiddles(),
    )
    caught: VaultError | None = None
    seen: set[str] = set()
    for _ in range(10):
        try:
            seen.add(
                vault.tokenize(
                    "ten_a", VISA, token_format=TokenFormat.FORMAT_PRESERVING, single_use=True
                ).token
            )
        except VaultError as exc:
            caught = exc
            break
    assert 1 <= len(seen) <= 2
    assert caught is not None
    assert (caught.code, caught.http_status) == ("token_space_exhausted", 409)


def test_concurrent_tokenize_of_the_same_card_converges_on_one_token() -> None:
    h = make_harness()
    other = cold_vault(h)
    original_claim = h.store.claim_fingerprint
    raced: dict[str, str] = {}

    def claim_after_rival(entry):  # type: ignore[no-untyped-def]
        if not raced:
            raced["rival"] = ""
            raced["rival"] = other.tokenize("ten_a", VISA).token
        return original_claim(entry)

    h.store.claim_fingerprint = claim_after_rival  # type: ignore[method-assign]
    mine = h.vault.tokenize("ten_a", VISA)
    assert mine.token == raced["rival"]
    assert not mine.created
    assert list(h.store.tokens) == [mine.token]


def test_invalid_identifiers_are_refused() -> None:
    h = make_harness()
    for tenant in ("", "a#b", "a\x1fb", "x" * 129):
        with pytest.raises(InvalidRequestError):
            h.vault.tokenize(tenant, VISA)
    with pytest.raises(InvalidRequestError):
        h.vault.tokenize("ten_a", VISA, customer_id="*")
    with pytest.raises(InvalidRequestError):
        h.vault.tokenize("ten_a", VISA, ttl_seconds=0)


def test_reprs_hold_no_secrets() -> None:
    kms = FakeKms()
    h = make_harness(kms=kms)
    result = h.vault.tokenize("ten_a", VISA, customer_id="cus_1")
    record = h.store.tokens[result.token]
    key_record = h.store.customer_keys[("ten_a", "cus_1")]
    text = repr(record) + repr(key_record) + repr(h.vault) + repr(result) + repr(kms)
    assert VISA not in text
    assert "nonce=" not in text
    assert "ciphertext=" not in text
    assert "wrapped" not in repr(key_record).replace("WrappedKeyRef", "")


# ------------------------------------------------------------ separation of duties (IAM)


def test_tokenize_role_works_across_containers_but_cannot_decrypt_a_record() -> None:
    """With KMS enforcing each role's IAM policy: tokenize may Decrypt ``customer-key`` only."""
    h = make_harness()
    first, first_kms = tokenize_container(h)
    a = first.tokenize("ten_a", VISA, customer_id="cus_1")
    anonymous = first.tokenize("ten_a", VISA)
    # another container, cold: it must unwrap the customer keys the first one created
    second, second_kms = tokenize_container(h)
    again = second.tokenize("ten_a", VISA, customer_id="cus_1")
    assert (again.token, again.created) == (a.token, False)
    b = second.tokenize("ten_a", MASTERCARD, customer_id="cus_1")
    c = second.tokenize("ten_a", MASTERCARD)
    assert b.created and c.created
    assert h.store.tokens[b.token].customer_key_id == h.store.tokens[a.token].customer_key_id
    assert (
        h.store.tokens[c.token].customer_key_id == h.store.tokens[anonymous.token].customer_key_id
    )
    # both customer keys (cus_1, anonymous) share the tenant's wrapping key: one unwrap
    assert h.kms.by_purpose["decrypt", "customer-key"] == 1
    assert h.kms.by_purpose["decrypt", "data-key"] == 0
    assert first_kms.denied == second_kms.denied == []

    # The tokenize role cannot read back a record another container wrote, even with every
    # application gate open (the detokenize role, a working audit sink): KMS refuses.
    for token in (a.token, anonymous.token):
        with pytest.raises(VaultUnavailableError):
            second.detokenize("ten_a", token, caller=DETOKENIZER, purpose="authorization")
    assert second_kms.denied == [("decrypt", "data-key")] * 2
    # Nor by calling KMS itself: data-key is refused by IAM, and the record's data key cannot
    # be passed off as a customer-key wrapping key (KMS binds the context into the blob).
    record = h.store.tokens[a.token]
    ref = record.key
    with pytest.raises(VaultUnavailableError):
        second_kms.decrypt_data_key(ref.kms_key_id, ref.wrapped_data_key, data_key_context("ten_a"))
    with pytest.raises(VaultRecordTamperedError):
        second_kms.decrypt_data_key(
            ref.kms_key_id, ref.wrapped_data_key, customer_key_context("ten_a")
        )
    assert h.kms.by_purpose["decrypt", "data-key"] == 0

    # A detokenize container reads every record, whichever tokenize container wrote it.
    reader, reader_kms = detokenize_container(h)
    for token, pan in ((a.token, VISA), (anonymous.token, VISA), (b.token, MASTERCARD)):
        got = reader.detokenize("ten_a", token, caller=DETOKENIZER, purpose="authorization")
        assert got.number == pan
    assert reader_kms.denied == []
    assert VISA not in repr(h.audit.events) and MASTERCARD not in repr(h.audit.events)


def test_erasure_still_shreds_with_split_keys() -> None:
    h = make_harness()
    writer, _ = tokenize_container(h)
    token = writer.tokenize("ten_a", VISA, customer_id="cus_1").token
    record = h.store.tokens[token]
    h.vault.erase_customer("ten_a", "cus_1", caller=DETOKENIZER)
    h.store.tokens[token] = record  # restored from a backup
    reader, _ = detokenize_container(h)
    with pytest.raises(CustomerKeyErasedError):
        reader.detokenize("ten_a", token, caller=DETOKENIZER, purpose="authorization")


def test_a_wrapping_key_is_never_used_as_a_record_data_key() -> None:
    h = make_harness()
    token = h.vault.tokenize("ten_a", VISA, customer_id="cus_1").token
    record = h.store.tokens[token]
    wrapping = h.store.customer_keys["ten_a", "cus_1"].key
    # a record edited to name the customer key's wrapping key: the warm container holds that
    # key unwrapped, but only as a wrapping key, so KMS is asked under data-key and refuses
    h.store.tokens[token] = dataclasses.replace(record, key=wrapping)
    for vault in (h.vault, cold_vault(h)):
        with pytest.raises(VaultRecordTamperedError):
            vault.detokenize("ten_a", token, caller=DETOKENIZER, purpose="authorization")


def test_customer_keys_wrapped_before_the_split_are_moved_by_rewrap() -> None:
    h = make_harness()
    token = h.vault.tokenize("ten_a", VISA, customer_id="cus_1").token
    stored = h.store.customer_keys["ten_a", "cus_1"]
    assert stored.wrap_context is KeyPurpose.CUSTOMER_KEY
    # Rewrite the customer key as the previous version did: under a record data key.
    aad = customer_key_aad("ten_a", "cus_1", stored.key_id)
    wk = h.kms.decrypt_data_key(
        stored.key.kms_key_id, stored.key.wrapped_data_key, customer_key_context("ten_a")
    )
    plain = open_sealed(wk, stored.nonce, stored.wrapped_key, aad)
    dk = h.kms.generate_data_key(data_key_context("ten_a"))
    legacy = CustomerKeyRecord(
        tenant_id="ten_a",
        scope="cus_1",
        key_id=stored.key_id,
        key=dataclasses.replace(stored.key, wrapped_data_key=dk.wrapped),
        nonce=b"\1" * 12,
        wrapped_key=seal(dk.plaintext, b"\1" * 12, plain, aad),
        created_at=stored.created_at,
        wrap_context=KeyPurpose.RECORD,
    )
    h.store.customer_keys["ten_a", "cus_1"] = legacy
    # detokenize (and admin) read it; the tokenize role cannot load it until it is moved
    reader, _ = detokenize_container(h)
    assert reader.detokenize("ten_a", token, caller=DETOKENIZER, purpose="x").number == VISA
    writer, writer_kms = tokenize_container(h)
    with pytest.raises(VaultUnavailableError):
        writer.tokenize("ten_a", MASTERCARD, customer_id="cus_1")
    assert writer_kms.denied == [("decrypt", "data-key")]
    report = cold_vault(h).rewrap(caller=DETOKENIZER)
    assert (report.customer_keys_rewrapped, report.tokens_rewrapped, report.failed) == (1, 0, 0)
    moved = h.store.customer_keys["ten_a", "cus_1"]
    assert (moved.wrap_context, moved.key_id) == (KeyPurpose.CUSTOMER_KEY, stored.key_id)
    writer, writer_kms = tokenize_container(h)
    other = writer.tokenize("ten_a", MASTERCARD, customer_id="cus_1").token
    assert writer_kms.denied == []
    reader, _ = detokenize_container(h)
    assert reader.detokenize("ten_a", token, caller=DETOKENIZER, purpose="x").number == VISA
    assert reader.detokenize("ten_a", other, caller=DETOKENIZER, purpose="x").number == MASTERCARD
    assert cold_vault(h).rewrap(caller=DETOKENIZER).customer_keys_rewrapped == 0
