"""Property tests of the vault over generated card numbers."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.domain.cards import luhn_valid
from functions.domain.vault import (
    CustomerKeyErasedError,
    InvalidRequestError,
    TokenFormat,
    VaultRecordTamperedError,
    VaultUnavailableError,
)
from tests.unit.vault.helpers import (
    DETOKENIZER,
    cold_vault,
    detokenize_container,
    make_harness,
    pans,
    tokenize_container,
)

formats = st.sampled_from(list(TokenFormat))


def _format_for(pan: str, token_format: TokenFormat) -> TokenFormat:
    """Format-preserving tokens exist for PANs of 16 digits or more (finding 4)."""
    return TokenFormat.OPAQUE if len(pan) < 16 else token_format


customers = st.one_of(st.none(), st.sampled_from(["cus_1", "cus_2"]))
FAST = settings(max_examples=60, deadline=None)


@FAST
@given(pan=pans(), token_format=formats, customer=customers)
def test_round_trip(pan: str, token_format: TokenFormat, customer: str | None) -> None:
    token_format = _format_for(pan, token_format)
    h = make_harness()
    result = h.vault.tokenize("ten_a", pan, customer_id=customer, token_format=token_format)
    assert result.token != pan
    assert result.last4 == pan[-4:]
    out = h.vault.detokenize("ten_a", result.token, caller=DETOKENIZER, purpose="authorization")
    assert out.number == pan
    assert out.brand == result.brand


@FAST
@given(pan=pans(), token_format=formats, customer=customers)
def test_what_the_tokenize_role_writes_only_the_detokenize_role_reads(
    pan: str, token_format: TokenFormat, customer: str | None
) -> None:
    token_format = _format_for(pan, token_format)
    h = make_harness()
    writer, _ = tokenize_container(h)
    result = writer.tokenize("ten_a", pan, customer_id=customer, token_format=token_format)
    other, other_kms = tokenize_container(h)  # a cold tokenize container
    again = other.tokenize("ten_a", pan, customer_id=customer, token_format=token_format)
    assert (again.token, again.created) == (result.token, False)
    with pytest.raises(VaultUnavailableError) as caught:
        other.detokenize("ten_a", result.token, caller=DETOKENIZER, purpose="authorization")
    assert pan not in repr(caught.value) and pan not in str(caught.value)
    assert other_kms.denied == [("decrypt", "data-key")]
    reader, reader_kms = detokenize_container(h)
    out = reader.detokenize("ten_a", result.token, caller=DETOKENIZER, purpose="authorization")
    assert out.number == pan
    assert reader_kms.denied == []


@FAST
@given(pan=pans(), token_format=formats, customer=customers)
def test_same_card_same_tenant_same_token_unless_single_use(
    pan: str, token_format: TokenFormat, customer: str | None
) -> None:
    token_format = _format_for(pan, token_format)
    h = make_harness()
    first = h.vault.tokenize("ten_a", pan, customer_id=customer, token_format=token_format)
    again = h.vault.tokenize("ten_a", pan, customer_id=customer, token_format=token_format)
    assert (first.token, first.created, again.created) == (again.token, True, False)
    one = h.vault.tokenize("ten_a", pan, token_format=token_format, single_use=True)
    two = h.vault.tokenize("ten_a", pan, token_format=token_format, single_use=True)
    assert len({first.token, one.token, two.token}) == 3
    assert first.fingerprint == one.fingerprint == two.fingerprint
    other_tenant = h.vault.tokenize("ten_b", pan, customer_id=customer, token_format=token_format)
    assert other_tenant.token != first.token
    assert other_tenant.fingerprint != first.fingerprint


@FAST
@given(pan=pans())
def test_format_preserving_token_shape(pan: str) -> None:
    h = make_harness()
    if len(pan) < 16:
        # Finding 4: too few digits would be left secret (10 to 10^4 candidates).
        with pytest.raises(InvalidRequestError) as refused:
            h.vault.tokenize("ten_a", pan, token_format=TokenFormat.FORMAT_PRESERVING)
        assert refused.value.param == "format"
        return
    for _ in range(3):
        token = h.vault.tokenize(
            "ten_a", pan, token_format=TokenFormat.FORMAT_PRESERVING, single_use=True
        ).token
        assert len(token) == len(pan)
        assert token[:6] == pan[:6]
        assert token[-4:] == pan[-4:]
        assert token.isdigit()
        assert not luhn_valid(token)
        assert token != pan


@FAST
@given(pan_a=pans(), pan_b=pans(), field=st.sampled_from(["ciphertext", "nonce", "both"]))
def test_swapping_ciphertexts_between_records_is_detected(
    pan_a: str, pan_b: str, field: str
) -> None:
    h = make_harness()
    a = h.vault.tokenize("ten_a", pan_a, customer_id="cus_1", single_use=True).token
    b = h.vault.tokenize("ten_a", pan_b, customer_id="cus_1", single_use=True).token
    rec_a, rec_b = h.store.tokens[a], h.store.tokens[b]
    changes: dict[str, bytes] = {}
    if field in ("ciphertext", "both"):
        changes["ciphertext"] = rec_b.ciphertext
    if field in ("nonce", "both"):
        changes["nonce"] = rec_b.nonce
    h.store.tokens[a] = dataclasses.replace(rec_a, **changes)  # type: ignore[arg-type]
    with pytest.raises(VaultRecordTamperedError):
        h.vault.detokenize("ten_a", a, caller=DETOKENIZER, purpose="authorization")
    assert h.audit.events[-1].reason == "vault_record_tampered"


@FAST
@given(pan=pans(), data=st.data())
def test_any_bit_flip_in_ciphertext_is_detected(pan: str, data: st.DataObject) -> None:
    h = make_harness()
    token = h.vault.tokenize("ten_a", pan).token
    record = h.store.tokens[token]
    index = data.draw(st.integers(0, len(record.ciphertext) - 1))
    bit = data.draw(st.integers(0, 7))
    flipped = bytearray(record.ciphertext)
    flipped[index] ^= 1 << bit
    h.store.tokens[token] = dataclasses.replace(record, ciphertext=bytes(flipped))
    with pytest.raises(VaultRecordTamperedError):
        h.vault.detokenize("ten_a", token, caller=DETOKENIZER, purpose="authorization")


@FAST
@given(
    victims=st.lists(pans(), min_size=1, max_size=4),
    others=st.lists(pans(), min_size=1, max_size=4),
)
def test_crypto_shred_both_halves(victims: list[str], others: list[str]) -> None:
    h = make_harness()
    victim_tokens = [h.vault.tokenize("ten_a", p, customer_id="cus_gone").token for p in victims]
    kept = {h.vault.tokenize("ten_a", p, customer_id="cus_kept").token: p for p in others}
    kept.update({h.vault.tokenize("ten_b", p, customer_id="cus_gone").token: p for p in others})
    backup = {t: h.store.tokens[t] for t in victim_tokens}  # a copy, like a table backup
    h.vault.erase_customer("ten_a", "cus_gone", caller=DETOKENIZER)
    h.store.tokens.update(backup)  # restore the records: the ciphertext alone must be useless
    for vault in (h.vault, cold_vault(h)):
        for token in victim_tokens:
            with pytest.raises(CustomerKeyErasedError) as caught:
                vault.detokenize("ten_a", token, caller=DETOKENIZER, purpose="authorization")
            assert caught.value.public_code == "token_not_found"
            assert caught.value.http_status == 404
        for token, pan in kept.items():
            tenant = "ten_a" if h.store.tokens[token].tenant_id == "ten_a" else "ten_b"
            got = vault.detokenize(tenant, token, caller=DETOKENIZER, purpose="authorization")
            assert got.number == pan
