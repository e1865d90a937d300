"""Who may detokenize: matching the API caller against DETOKENIZE_ALLOWED_PRINCIPALS."""

from __future__ import annotations

import pytest

from functions.handlers.detokenize import principal_allowed

ROLE = "arn:aws:iam::111122223333:role/chargebacks"
ALLOWED = (
    ROLE,
    "arn:aws:iam::111122223333:user/ops",
    "arn:aws:sts::111122223333:assumed-role/sre/",
)


@pytest.mark.parametrize(
    "caller",
    [
        "arn:aws:sts::111122223333:assumed-role/chargebacks/alice",  # a session of the role
        "arn:aws:iam::111122223333:user/ops",  # exact
        ROLE,  # exact
        "arn:aws:sts::111122223333:assumed-role/sre/pager",  # prefix ending in '/'
    ],
)
def test_permitted(caller: str) -> None:
    assert principal_allowed(caller, ALLOWED)


@pytest.mark.parametrize(
    "caller",
    [
        "",
        "arn:aws:sts::111122223333:assumed-role/chargebacks-admin/alice",  # longer role name
        "arn:aws:sts::999999999999:assumed-role/chargebacks/alice",  # another account
        "arn:aws:sts::111122223333:assumed-role/analytics/bob",
        "arn:aws:iam::111122223333:user/ops2",
        "arn:aws:sts::111122223333:assumed-role/sre",  # prefix itself without a session
    ],
)
def test_refused(caller: str) -> None:
    assert not principal_allowed(caller, ALLOWED)


def test_nobody_when_the_list_is_empty() -> None:
    assert not principal_allowed("arn:aws:sts::111122223333:assumed-role/chargebacks/a", ())


def test_a_role_path_is_ignored_like_sts_does() -> None:
    allowed = ("arn:aws:iam::111122223333:role/payments/chargebacks",)
    assert principal_allowed("arn:aws:sts::111122223333:assumed-role/chargebacks/a", allowed)
