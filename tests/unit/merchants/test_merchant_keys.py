"""The key rules alone: the form, parsing, hashing, the constant-time comparison, what makes a
key unusable, and which merchant statuses are admitted and may follow each other."""

from __future__ import annotations

import datetime as dt
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.domain import merchant_keys as mk
from functions.domain.merchant_keys import KeyRecord, MerchantStatus, Rejection

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def record_for(key: mk.ParsedKey, **changes: dt.datetime) -> KeyRecord:
    return KeyRecord(key.key_id, "m_1", key.mode, mk.key_hash(key.text), NOW, **changes)


def test_a_new_key_parses_back_and_its_prefix_hides_the_secret() -> None:
    key = mk.new_key("test")
    parsed = mk.parse_key(key.text)
    assert parsed == key
    assert key.text.startswith(f"sk_test_{key.key_id}_")
    assert key.prefix == f"sk_test_{key.key_id}"
    secret = key.text.removeprefix(key.prefix + "_")
    assert len(secret) == 43 and secret not in key.prefix
    assert mk.new_key("test").text != key.text


def test_the_stored_hash_is_sha256_of_the_key_and_not_the_key() -> None:
    key = mk.new_key("live")
    assert mk.key_hash(key.text) != key.text and len(mk.key_hash(key.text)) == 64
    assert mk.hash_matches(key.text, mk.key_hash(key.text))
    changed = key.text[:-1] + ("A" if key.text[-1] != "A" else "B")
    assert not mk.hash_matches(changed, mk.key_hash(key.text))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sk_test_",
        "pk_test_abcdefghijklmnop_" + "a" * 43,
        "sk_prod_abcdefghijklmnop_" + "a" * 43,
        "sk_test_ABCDEFGHIJKLMNOP_" + "a" * 43,  # ids are lowercase base32
        "sk_test_abcdefghijklmno_" + "a" * 43,  # id one short
        "sk_test_abcdefghijklmnop_" + "a" * 42,  # secret one short
        "sk_test_abcdefghijklmnop_" + "a" * 42 + "=",
        "sk_test_abcdefghijklmnop_" + "a" * 43 + "\n",
    ],
)
def test_malformed_keys_do_not_parse(text: str) -> None:
    assert mk.parse_key(text) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer sk_x", "sk_x"),
        ("bearer   sk_x ", "sk_x"),
        ("Bearer", None),
        ("Basic c2tfeDo=", None),
        ("AWS4-HMAC-SHA256 Credential=AKIA/20261201/eu-west-2/execute-api/aws4_request", None),
        ("Bearer a b", None),
        (None, None),
    ],
)
def test_the_bearer_credential_is_read_from_the_header(header: str | None, expected: str) -> None:
    assert mk.bearer_key(header) == expected


def test_the_hash_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """An ``==`` would return at the first differing character: a caller could learn the hash
    a character at a time from the authorizer's timing."""
    calls: list[tuple[bytes, bytes]] = []
    compare = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    key = mk.new_key("test")
    assert mk.hash_matches(key.text, mk.key_hash(key.text))
    assert calls == [(mk.key_hash(key.text).encode(), mk.key_hash(key.text).encode())]


def test_authenticate_names_the_merchant_of_a_valid_key() -> None:
    key = mk.new_key("test")
    found = mk.authenticate(f"Bearer {key.text}", "test", {key.key_id: record_for(key)}.get, NOW)
    assert found == mk.Authenticated("m_1", key.key_id, key.prefix)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"revoked_at": NOW}, Rejection.REVOKED),
        ({"revoked_at": NOW - dt.timedelta(days=1)}, Rejection.REVOKED),
        ({"expires_at": NOW}, Rejection.EXPIRED),
        ({"expires_at": NOW - dt.timedelta(seconds=1)}, Rejection.EXPIRED),
    ],
)
def test_revoked_and_expired_keys_are_refused(
    changes: dict[str, dt.datetime], expected: Rejection
) -> None:
    key = mk.new_key("test")
    lookup = {key.key_id: record_for(key, **changes)}.get
    assert mk.authenticate(f"Bearer {key.text}", "test", lookup, NOW) == expected


def test_a_key_that_expires_later_still_works() -> None:
    key = mk.new_key("test")
    lookup = {key.key_id: record_for(key, expires_at=NOW + dt.timedelta(seconds=1))}.get
    assert isinstance(mk.authenticate(f"Bearer {key.text}", "test", lookup, NOW), mk.Authenticated)


def test_refusals_for_missing_malformed_unknown_mismatched_and_wrong_mode_keys() -> None:
    key, other = mk.new_key("test"), mk.new_key("test")
    reads: list[str] = []

    def lookup(key_id: str) -> KeyRecord | None:
        reads.append(key_id)
        return {key.key_id: record_for(key)}.get(key_id)

    assert mk.authenticate(None, "test", lookup, NOW) == Rejection.MISSING
    assert mk.authenticate("  ", "test", lookup, NOW) == Rejection.MISSING
    assert mk.authenticate("Bearer sk_test_nope", "test", lookup, NOW) == Rejection.MALFORMED
    assert mk.authenticate("AWS4-HMAC-SHA256 x", "test", lookup, NOW) == Rejection.MALFORMED
    assert reads == []  # garbage costs no registry read
    assert mk.authenticate(f"Bearer {key.text}", "live", lookup, NOW) == Rejection.WRONG_MODE
    assert mk.authenticate(f"Bearer {other.text}", "test", lookup, NOW) == Rejection.UNKNOWN
    # The right id with another secret: someone who saw the prefix guesses the rest.
    forged = f"{key.prefix}_{other.text[len(other.prefix) + 1 :]}"
    assert mk.authenticate(f"Bearer {forged}", "test", lookup, NOW) == Rejection.MISMATCH


def test_the_mismatch_is_checked_before_the_state_of_the_key() -> None:
    """Whoever does not hold a revoked key must not learn that it was revoked."""
    key, other = mk.new_key("test"), mk.new_key("test")
    lookup = {key.key_id: record_for(key, revoked_at=NOW)}.get
    forged = f"{key.prefix}_{other.text[len(other.prefix) + 1 :]}"
    assert mk.authenticate(f"Bearer {forged}", "test", lookup, NOW) == Rejection.MISMATCH


@pytest.mark.parametrize("overlap", [dt.timedelta(seconds=-1), dt.timedelta(days=7, seconds=1)])
def test_an_overlap_outside_zero_to_seven_days_is_refused(overlap: dt.timedelta) -> None:
    with pytest.raises(ValueError, match="overlap"):
        mk.rotation_expiry(NOW, overlap)


def test_keys_are_live_in_prod_only() -> None:
    assert [mk.mode_for(e) for e in ("local", "dev", "staging", "prod")] == [
        "test",
        "test",
        "test",
        "live",
    ]


STATUSES = st.sampled_from(list(MerchantStatus))


@given(STATUSES, STATUSES)
def test_a_closure_is_final_and_only_active_and_suspended_trade_places(
    current: MerchantStatus, wanted: MerchantStatus
) -> None:
    allowed = mk.status_change_allowed(current, wanted)
    if current is MerchantStatus.CLOSED:
        assert allowed == (wanted is MerchantStatus.CLOSED)
    else:
        assert allowed


@given(STATUSES)
def test_only_an_active_merchant_s_key_is_admitted(status: MerchantStatus) -> None:
    key = mk.Authenticated("m_shop", "abcdefghijklmnop", "sk_test_abcdefghijklmnop")
    outcome = mk.admit(key, status)
    if status is MerchantStatus.ACTIVE:
        assert outcome == key
    else:
        assert outcome == mk.Denied("m_shop", status)
        assert isinstance(outcome, mk.Denied) and outcome.code == f"merchant_{status.value}"
        # The gateway response substitutes it into a JSON string: no quote, no backslash.
        assert '"' not in outcome.message and "\\" not in outcome.message
