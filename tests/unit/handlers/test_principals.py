"""Who may call: the caller matched against DETOKENIZE_ALLOWED_PRINCIPALS, MERCHANT_PRINCIPALS."""

from __future__ import annotations

import json

import pytest

from functions.domain.principals import MerchantAccess, principal_allowed

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


def test_merchant_access_binds_principals_to_merchants() -> None:
    access = MerchantAccess.from_json(
        json.dumps(
            {
                "m_1": ["arn:aws:iam::111122223333:user/shop-one"],
                "m_2": ["arn:aws:iam::111122223333:role/shop-two"],
                "*": ["arn:aws:iam::111122223333:user/operators/"],
            }
        )
    )
    shop_one = "arn:aws:iam::111122223333:user/shop-one"
    shop_two = "arn:aws:sts::111122223333:assumed-role/shop-two/session-1"
    operator = "arn:aws:iam::111122223333:user/operators/ann"
    assert access.may_act_for(shop_one, "m_1") and not access.may_act_for(shop_one, "m_2")
    assert access.may_act_for(shop_two, "m_2") and not access.may_act_for(shop_two, "m_1")
    assert access.may_act_for(operator, "m_1") and access.may_act_for(operator, "m_3")
    assert not access.may_act_for("", "m_1")


def test_merchant_access_allows_nobody_by_default_and_refuses_bad_config() -> None:
    assert not MerchantAccess.from_json("").may_act_for("arn:aws:iam::1:user/x", "m_1")
    for bad in ('["m_1"]', '{"m_1": "arn:aws:iam::1:user/x"}', '{"m_1": ["shop"]}'):
        with pytest.raises(ValueError, match="MERCHANT_PRINCIPALS"):
            MerchantAccess.from_json(bad)
