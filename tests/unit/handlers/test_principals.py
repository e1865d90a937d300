"""Who may call: the caller matched against DETOKENIZE_ALLOWED_PRINCIPALS, MERCHANT_PRINCIPALS."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from functions.domain.principals import MerchantAccess, admits_a_whole_type, principal_allowed
from functions.models.tokens import VaultFunctionSettings

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


@pytest.mark.parametrize(
    "entry",
    [
        "arn:aws:sts::111122223333:assumed-role/",
        "arn:aws:iam::111122223333:role/",
        "arn:aws:iam::111122223333:user/",
        "arn:aws:sts::111122223333:federated-user/",
        "arn:aws-us-gov:sts::111122223333:assumed-role/",
    ],
)
def test_a_detokenize_allow_list_with_a_bare_type_prefix_is_refused(entry: str) -> None:
    """Finding 11: "arn:aws:sts::<account>:assumed-role/" is a prefix of every role session of
    the account. The module's variable refuses it; the function refuses to start with it too
    (an environment configured without the module)."""
    anyone = "arn:aws:sts::111122223333:assumed-role/analytics/bob"
    assert admits_a_whole_type(entry)
    env = {
        "VAULT_TABLE_NAME": "pay-vault",
        "VAULT_KMS_KEY_ID": "k",
        "VAULT_FINGERPRINT_KEY_ID": "f",
        "DETOKENIZE_ALLOWED_PRINCIPALS": f"arn:aws:iam::111122223333:role/chargebacks,{entry}",
    }
    with pytest.raises(ValidationError, match="bare type prefix"):
        VaultFunctionSettings.from_env(env)
    # What it would have admitted: any session of any role.
    assert principal_allowed(anyone, ("arn:aws:sts::111122223333:assumed-role/",))


def test_a_prefix_naming_one_role_is_kept() -> None:
    entry = "arn:aws:sts::111122223333:assumed-role/chargebacks/"
    assert not admits_a_whole_type(entry)
    env = {
        "VAULT_TABLE_NAME": "pay-vault",
        "VAULT_KMS_KEY_ID": "k",
        "VAULT_FINGERPRINT_KEY_ID": "f",
        "DETOKENIZE_ALLOWED_PRINCIPALS": entry,
    }
    assert VaultFunctionSettings.from_env(env).detokenize_allowed_principals == (entry,)
