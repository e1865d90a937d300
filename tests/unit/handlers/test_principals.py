"""Who may call: the IAM caller matched against DETOKENIZE_ALLOWED_PRINCIPALS, and the merchant
the authorizer authenticated."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from functions.domain.principals import (
    AuthenticatedMerchant,
    admits_a_whole_type,
    authorized_merchant,
    principal_allowed,
)
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


def test_a_merchant_acts_for_the_merchant_its_key_authenticated_only() -> None:
    access = AuthenticatedMerchant()
    assert access.may_act_for("m_1", "m_1")
    assert not access.may_act_for("m_1", "m_2")
    # No authorizer context (a route signed with IAM): nobody.
    assert not access.may_act_for("", "")
    assert not access.may_act_for("", "m_1")


def test_the_authorized_merchant_is_read_from_the_authorizer_context_only() -> None:
    assert authorized_merchant({"requestContext": {"authorizer": {"merchant_id": "m_1"}}}) == "m_1"
    # An IAM-signed caller is nobody's merchant, whatever its ARN.
    signed = {"requestContext": {"identity": {"userArn": "arn:aws:iam::1:user/m_1"}}}
    assert authorized_merchant(signed) == ""
    assert authorized_merchant({}) == ""


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
