"""The documented signature (docs/webhooks.md): what we send verifies with the sample verifier,
and the verifier refuses an altered body, a wrong secret and a replay outside its window."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.domain.webhook_signatures import (
    SignatureError,
    parse_header,
    signature_header,
    verify,
)

SECRET = "whsec_" + "a" * 43
OTHER = "whsec_" + "b" * 43
NOW = 1_800_000_000

bodies = st.binary(min_size=0, max_size=512)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body_as_documented() -> None:
    body = b'{"id":"evt_1"}'
    expected = hmac.new(SECRET.encode(), b"1800000000." + body, hashlib.sha256).hexdigest()
    assert signature_header([SECRET], NOW, body) == f"t={NOW},v1={expected}"


@given(bodies)
def test_a_signed_body_verifies_with_its_secret(body: bytes) -> None:
    assert verify(body, signature_header([SECRET], NOW, body), SECRET, now=NOW) == NOW


@given(bodies, st.binary(min_size=1, max_size=8))
def test_an_altered_body_is_refused(body: bytes, extra: bytes) -> None:
    header = signature_header([SECRET], NOW, body)
    with pytest.raises(SignatureError):
        verify(body + extra, header, SECRET, now=NOW)


def test_a_wrong_secret_is_refused() -> None:
    header = signature_header([SECRET], NOW, b"{}")
    with pytest.raises(SignatureError, match="no signature matches"):
        verify(b"{}", header, OTHER, now=NOW)


@given(st.integers(min_value=301, max_value=10**7), st.sampled_from([-1, 1]))
def test_a_replay_outside_the_window_is_refused(offset: int, sign: int) -> None:
    header = signature_header([SECRET], NOW, b"{}")
    with pytest.raises(SignatureError, match="tolerance"):
        verify(b"{}", header, SECRET, tolerance=300, now=NOW + sign * offset)


def test_a_delivery_at_the_edge_of_the_window_still_verifies() -> None:
    header = signature_header([SECRET], NOW, b"{}")
    assert verify(b"{}", header, SECRET, tolerance=300, now=NOW + 300) == NOW


def test_during_rotation_either_secret_verifies_the_same_delivery() -> None:
    header = signature_header([OTHER, SECRET], NOW, b"{}")
    assert len(parse_header(header)[1]) == 2
    assert verify(b"{}", header, SECRET, now=NOW) == NOW
    assert verify(b"{}", header, OTHER, now=NOW) == NOW
    assert verify(b"{}", header, ["whsec_unknown", OTHER], now=NOW) == NOW


@pytest.mark.parametrize(
    "header", ["", "v1=abc", f"t={NOW}", "t=abc,v1=00", f"t={NOW},v0=00", "garbage"]
)
def test_a_malformed_header_is_refused(header: str) -> None:
    with pytest.raises(SignatureError):
        verify(b"{}", header, SECRET, now=NOW)
