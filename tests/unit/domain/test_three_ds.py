from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from functions.domain.three_ds import AccessControlServer, Challenge, SimulatedAcs

KEY = b"k" * 32
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def acs() -> SimulatedAcs:
    return SimulatedAcs(KEY)


def test_passing_code_authenticates(acs: SimulatedAcs) -> None:
    challenge = acs.start_challenge("pay_1", NOW)
    assert challenge.method == "otp"
    assert challenge.payment_id == "pay_1"
    assert challenge.expires_at == NOW + timedelta(minutes=10)
    result = acs.verify(challenge, SimulatedAcs.PASSING_CODE, NOW + timedelta(minutes=9))
    assert (result.authenticated, result.reason, result.eci) == (True, "authenticated", "05")
    assert result.authentication_value is not None
    assert len(base64.b64decode(result.authentication_value, validate=True)) == 20


@pytest.mark.parametrize(
    "code", ["123457", "", "12345", "1234567", " 123456", "\uff11\uff12\uff13\uff14\uff15\uff16"]
)
def test_any_other_code_fails(acs: SimulatedAcs, code: str) -> None:
    result = acs.verify(acs.start_challenge("pay_1", NOW), code, NOW)
    assert (result.authenticated, result.reason) == (False, "wrong_response")
    assert result.eci is None and result.authentication_value is None


def test_expires_exactly_at_the_ttl() -> None:
    acs = SimulatedAcs(KEY, challenge_ttl=timedelta(minutes=5))
    challenge = acs.start_challenge("pay_1", NOW)
    just_before = acs.verify(challenge, "123456", NOW + timedelta(minutes=5, microseconds=-1))
    assert just_before.authenticated
    at_expiry = acs.verify(challenge, "123456", NOW + timedelta(minutes=5))
    assert (at_expiry.authenticated, at_expiry.reason) == (False, "challenge_expired")
    assert at_expiry.authentication_value is None


def test_expiry_is_reported_before_a_wrong_code(acs: SimulatedAcs) -> None:
    challenge = acs.start_challenge("pay_1", NOW)
    result = acs.verify(challenge, "000000", NOW + timedelta(hours=1))
    assert result.reason == "challenge_expired"


def test_challenge_ids_are_deterministic_per_payment_and_key(acs: SimulatedAcs) -> None:
    first = acs.start_challenge("pay_1", NOW)
    retried = acs.start_challenge("pay_1", NOW + timedelta(seconds=30))
    assert retried.challenge_id == first.challenge_id
    assert acs.start_challenge("pay_2", NOW).challenge_id != first.challenge_id
    other_key = SimulatedAcs(b"o" * 32).start_challenge("pay_1", NOW)
    assert other_key.challenge_id != first.challenge_id
    assert first.challenge_id.startswith("chl_")


def test_authentication_value_is_deterministic_and_per_challenge(acs: SimulatedAcs) -> None:
    one = acs.start_challenge("pay_1", NOW)
    two = acs.start_challenge("pay_2", NOW)
    first = acs.verify(one, "123456", NOW).authentication_value
    assert acs.verify(one, "123456", NOW + timedelta(seconds=1)).authentication_value == first
    assert acs.verify(two, "123456", NOW).authentication_value != first


def test_a_challenge_not_issued_for_the_payment_is_refused(acs: SimulatedAcs) -> None:
    issued = acs.start_challenge("pay_1", NOW)
    moved = dataclasses.replace(issued, payment_id="pay_2")
    assert acs.verify(moved, "123456", NOW).reason == "unknown_challenge"
    forged = Challenge("chl_forged", "pay_1", "otp", NOW + timedelta(minutes=1))
    assert acs.verify(forged, "123456", NOW).reason == "unknown_challenge"
    foreign = SimulatedAcs(b"o" * 32).start_challenge("pay_1", NOW)
    assert acs.verify(foreign, "123456", NOW).authenticated is False


def test_naive_datetimes_are_refused(acs: SimulatedAcs) -> None:
    naive = datetime(2026, 11, 22, 12, 0)
    with pytest.raises(ValueError, match="timezone"):
        acs.start_challenge("pay_1", naive)
    with pytest.raises(ValueError, match="timezone"):
        acs.verify(acs.start_challenge("pay_1", NOW), "123456", naive)


@pytest.mark.parametrize(
    ("key", "ttl", "named"),
    [(b"short", timedelta(minutes=1), "key"), (KEY, timedelta(0), "challenge_ttl")],
)
def test_bad_configuration_is_refused(key: bytes, ttl: timedelta, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        SimulatedAcs(key, challenge_ttl=ttl)


def test_key_is_not_in_repr(acs: SimulatedAcs) -> None:
    assert "kkkk" not in repr(acs)


def test_simulator_satisfies_the_protocol() -> None:
    server: AccessControlServer = SimulatedAcs(KEY)
    assert server.verify(server.start_challenge("p", NOW), "123456", NOW).authenticated
