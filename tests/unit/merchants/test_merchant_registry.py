"""The registry's service on the in-memory store: onboarding, issuing, rotating with an
overlap, revoking, and what a presented key authenticates as at each moment."""

from __future__ import annotations

import datetime as dt

import pytest

from functions.domain.merchant_keys import Authenticated, Denied, MerchantStatus, Rejection
from functions.services.merchant_registry import MerchantRegistry, RegistryError
from tests.unit.merchants.memory_store import MemoryMerchantStore, MemoryUsageKeys

START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> MemoryMerchantStore:
    return MemoryMerchantStore()


@pytest.fixture
def registry(store: MemoryMerchantStore, clock: Clock) -> MerchantRegistry:
    return MerchantRegistry(store, "test", clock)


def bearer(key: str) -> str:
    return f"Bearer {key}"


def test_onboarding_issues_a_key_that_authenticates_as_the_merchant(
    registry: MerchantRegistry, store: MemoryMerchantStore
) -> None:
    issued = registry.create_merchant("m_shop", display_name="Shop")
    assert issued.credentials() == {"merchant_id": "m_shop", "api_key": issued.api_key}
    assert registry.authenticate(bearer(issued.api_key)) == Authenticated(
        "m_shop", issued.key_id, issued.prefix
    )
    # Stored: the hash and the prefix, never the key.
    stored = store.keys[issued.key_id]
    assert issued.api_key not in repr(stored) and issued.api_key not in repr(store.merchants)
    assert store.merchants["m_shop"].display_name == "Shop"


def test_a_merchant_id_is_onboarded_once(registry: MerchantRegistry) -> None:
    registry.create_merchant("m_shop")
    with pytest.raises(RegistryError, match="exists already"):
        registry.create_merchant("m_shop")


@pytest.mark.parametrize("merchant_id", ["", "m shop", "m/1", "x" * 65])
def test_merchant_ids_are_the_payment_api_s_form(
    registry: MerchantRegistry, merchant_id: str
) -> None:
    with pytest.raises(RegistryError, match="merchant id"):
        registry.create_merchant(merchant_id)


def test_a_rotated_key_works_until_the_overlap_ends_then_is_refused(
    registry: MerchantRegistry, clock: Clock
) -> None:
    old = registry.create_merchant("m_shop")
    clock.advance(days=30)
    new = registry.rotate_key("m_shop", overlap=dt.timedelta(hours=2))
    assert new.api_key != old.api_key
    for key in (old, new):
        assert isinstance(registry.authenticate(bearer(key.api_key)), Authenticated)
    clock.advance(hours=1, minutes=59)
    assert isinstance(registry.authenticate(bearer(old.api_key)), Authenticated)
    clock.advance(minutes=1)
    assert registry.authenticate(bearer(old.api_key)) == Rejection.EXPIRED
    assert isinstance(registry.authenticate(bearer(new.api_key)), Authenticated)


def test_rotating_again_never_extends_a_key_already_ending(
    registry: MerchantRegistry, clock: Clock
) -> None:
    old = registry.create_merchant("m_shop")
    registry.rotate_key("m_shop", overlap=dt.timedelta(hours=1))
    registry.rotate_key("m_shop", overlap=dt.timedelta(days=2))
    clock.advance(hours=1)
    assert registry.authenticate(bearer(old.api_key)) == Rejection.EXPIRED


def test_rotating_one_named_key_leaves_the_others(registry: MerchantRegistry, clock: Clock) -> None:
    first = registry.create_merchant("m_shop")
    second = registry.issue_key("m_shop")
    registry.rotate_key("m_shop", first.key_id, overlap=dt.timedelta(0))
    assert registry.authenticate(bearer(first.api_key)) == Rejection.EXPIRED
    assert isinstance(registry.authenticate(bearer(second.api_key)), Authenticated)
    with pytest.raises(RegistryError, match="no working key"):
        registry.rotate_key("m_shop", first.key_id)


def test_a_revoked_key_is_refused_at_once_and_the_others_keep_working(
    registry: MerchantRegistry, clock: Clock
) -> None:
    first = registry.create_merchant("m_shop")
    second = registry.issue_key("m_shop")
    revoked = registry.revoke_key("m_shop", first.key_id)
    assert revoked.revoked_at == START and revoked.prefix == first.prefix
    assert registry.authenticate(bearer(first.api_key)) == Rejection.REVOKED
    assert isinstance(registry.authenticate(bearer(second.api_key)), Authenticated)
    # Revoking twice keeps the first revocation's time.
    clock.advance(hours=1)
    assert registry.revoke_key("m_shop", first.key_id).revoked_at == START


def test_a_key_is_revoked_only_by_its_merchant(registry: MerchantRegistry) -> None:
    shop = registry.create_merchant("m_shop")
    registry.create_merchant("m_other")
    with pytest.raises(RegistryError, match="no key"):
        registry.revoke_key("m_other", shop.key_id)
    assert isinstance(registry.authenticate(bearer(shop.api_key)), Authenticated)


def test_keys_are_listed_by_prefix_without_secrets(registry: MerchantRegistry) -> None:
    first = registry.create_merchant("m_shop")
    registry.rotate_key("m_shop")
    listed = registry.keys("m_shop")
    assert len(listed) == 2 and first.prefix in {k.prefix for k in listed}
    assert first.api_key not in repr(listed)


def test_keys_are_issued_only_for_an_onboarded_merchant(registry: MerchantRegistry) -> None:
    with pytest.raises(RegistryError, match="no merchant"):
        registry.issue_key("m_nobody")
    with pytest.raises(RegistryError, match="no merchant"):
        registry.rotate_key("m_nobody")


def test_a_live_registry_refuses_test_keys(store: MemoryMerchantStore, clock: Clock) -> None:
    issued = MerchantRegistry(store, "test", clock).create_merchant("m_shop")
    assert issued.api_key.startswith("sk_test_")
    live = MerchantRegistry(store, "live", clock)
    assert live.authenticate(bearer(issued.api_key)) == Rejection.WRONG_MODE
    assert live.issue_key("m_shop").api_key.startswith("sk_live_")


def test_whether_a_merchant_exists(registry: MerchantRegistry) -> None:
    assert not registry.merchant_exists("m_shop")
    registry.create_merchant("m_shop")
    assert registry.merchant_exists("m_shop")


def test_a_suspended_merchant_s_working_keys_are_denied_until_it_is_reactivated(
    registry: MerchantRegistry, clock: Clock
) -> None:
    first = registry.create_merchant("m_shop")
    second = registry.issue_key("m_shop")
    registry.create_merchant("m_other")
    clock.advance(hours=1)
    suspended = registry.suspend("m_shop")
    assert suspended.status is MerchantStatus.SUSPENDED
    assert suspended.status_changed_at == START + dt.timedelta(hours=1)
    for key in (first, second):
        assert registry.authenticate(bearer(key.api_key)) == Denied(
            "m_shop", MerchantStatus.SUSPENDED
        )
    # A wrong key stays a 401: who is not proven learns nothing about the merchant.
    forged = first.api_key[:-4] + "AAAA"
    assert registry.authenticate(bearer(forged)) == Rejection.MISMATCH
    # No new key while suspended; a leaked one can still be revoked.
    with pytest.raises(RegistryError, match="is suspended"):
        registry.issue_key("m_shop")
    registry.revoke_key("m_shop", second.key_id)
    assert registry.merchant("m_other").status is MerchantStatus.ACTIVE

    assert registry.reactivate("m_shop").status is MerchantStatus.ACTIVE
    assert isinstance(registry.authenticate(bearer(first.api_key)), Authenticated)
    assert registry.authenticate(bearer(second.api_key)) == Rejection.REVOKED


def test_a_closed_merchant_is_never_reactivated(registry: MerchantRegistry) -> None:
    issued = registry.create_merchant("m_shop")
    registry.suspend("m_shop")
    registry.close("m_shop")
    assert registry.authenticate(bearer(issued.api_key)) == Denied("m_shop", MerchantStatus.CLOSED)
    for change in (registry.reactivate, registry.suspend):
        with pytest.raises(RegistryError, match="is closed"):
            change("m_shop")
    # Repeating a change is a no-op, not an error: an operator's retry.
    assert registry.close("m_shop").status is MerchantStatus.CLOSED


def test_a_status_change_lost_to_a_concurrent_one_is_refused(
    registry: MerchantRegistry, store: MemoryMerchantStore
) -> None:
    registry.create_merchant("m_shop")
    stale = store.merchants["m_shop"]
    registry.close("m_shop")
    # This operator read the merchant active, before another one closed it.
    store.merchant = lambda merchant_id: stale  # type: ignore[method-assign]
    with pytest.raises(RegistryError, match="changed meanwhile"):
        registry.suspend("m_shop")
    assert store.merchants["m_shop"].status is MerchantStatus.CLOSED


def test_a_key_whose_merchant_record_is_gone_is_unknown(
    registry: MerchantRegistry, store: MemoryMerchantStore
) -> None:
    issued = registry.create_merchant("m_shop")
    del store.merchants["m_shop"]
    assert registry.authenticate(bearer(issued.api_key)) == Rejection.UNKNOWN
    with pytest.raises(RegistryError, match="no merchant"):
        registry.suspend("m_shop")


def test_onboarding_puts_the_merchant_s_usage_key_on_its_tier_s_plan(
    store: MemoryMerchantStore, clock: Clock
) -> None:
    usage = MemoryUsageKeys({"standard": "plan_std", "e2e_tiny": "plan_tiny"})
    registry = MerchantRegistry(store, "test", clock, usage=usage)
    shop = registry.create_merchant("m_shop")
    small = registry.create_merchant("m_small", tier="e2e_tiny")
    records = {m: store.merchants[m] for m in ("m_shop", "m_small")}
    assert {m: (r.tier, usage.keys[r.usage_key_id or ""][2]) for m, r in records.items()} == {
        "m_shop": ("standard", "plan_std"),
        "m_small": ("e2e_tiny", "plan_tiny"),
    }
    # The usage key is API Gateway's identifier, not the secret key, and the authorizer hands
    # it on with the merchant.
    for issued, record in ((shop, records["m_shop"]), (small, records["m_small"])):
        assert record.usage_key is not None and len(record.usage_key) == 40
        assert record.usage_key not in issued.api_key
        authenticated = registry.authenticate(bearer(issued.api_key))
        assert isinstance(authenticated, Authenticated)
        assert authenticated.usage_key == record.usage_key


def test_an_unknown_tier_or_a_failed_attach_leaves_no_merchant_and_no_key(
    store: MemoryMerchantStore, clock: Clock
) -> None:
    usage = MemoryUsageKeys()
    registry = MerchantRegistry(store, "test", clock, usage=usage)
    with pytest.raises(RegistryError, match="no usage plan for tier gold"):
        registry.create_merchant("m_shop", tier="gold")
    with pytest.raises(RegistryError, match="tier must be"):
        registry.create_merchant("m_shop", tier="Gold Plus")
    usage.fail_attach = True
    with pytest.raises(RuntimeError):
        registry.create_merchant("m_shop")
    assert store.merchants == {} and usage.keys == {}
    usage.fail_attach = False
    registry.create_merchant("m_shop")
    with pytest.raises(RegistryError, match="exists already"):
        registry.create_merchant("m_shop")
    assert len(usage.keys) == 1


def test_a_merchant_onboarded_before_usage_plans_is_given_its_key_once(
    store: MemoryMerchantStore, clock: Clock
) -> None:
    issued = MerchantRegistry(store, "test", clock).create_merchant("m_old")
    assert store.merchants["m_old"].usage_key is None
    usage = MemoryUsageKeys()
    registry = MerchantRegistry(store, "test", clock, usage=usage)
    attached = registry.attach_usage_key("m_old")
    assert attached.usage_key_id in usage.keys and store.merchants["m_old"] == attached
    assert registry.attach_usage_key("m_old") == attached and len(usage.keys) == 1
    authenticated = registry.authenticate(bearer(issued.api_key))
    assert (
        isinstance(authenticated, Authenticated) and authenticated.usage_key == attached.usage_key
    )
    with pytest.raises(RegistryError, match="no API Gateway usage plans"):
        MerchantRegistry(store, "test", clock).attach_usage_key("m_old")
