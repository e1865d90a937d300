"""The merchant registry (docs/decisions/0008): onboarding a merchant, issuing, rotating and
revoking its secret API keys, and authenticating a presented key. Rules of the keys themselves
live in ``functions.domain.merchant_keys``; the store is a port (DynamoDB in
``functions.adapters.merchant_registry_table``, in memory in the tests).

Onboarding needs no deployment: an operator (``make merchant``, ``python -m local.cli
merchant``) writes the registry, and the authorizer reads it on the next request.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from functions.contracts.merchants import (
    IssuedKey,
    KeySummary,
    MerchantLimits,
    MerchantRecord,
)
from functions.domain.merchant_keys import (
    DEFAULT_OVERLAP,
    DEFAULT_TIER,
    MERCHANT_ID,
    TIER,
    Authenticated,
    Denied,
    KeyRecord,
    MerchantStatus,
    Rejection,
    admit,
    authenticate,
    key_hash,
    new_key,
    new_usage_key,
    rotation_expiry,
    status_change_allowed,
)


class MerchantStore(Protocol):
    def add_merchant(self, merchant: MerchantRecord, first_key: KeyRecord) -> bool:
        """Store a new merchant with its first key at once; False when the id is taken."""
        ...

    def merchant(self, merchant_id: str) -> MerchantRecord | None: ...

    def replace_merchant(self, old: MerchantRecord, new: MerchantRecord) -> bool:
        """Write ``new`` over ``old``; False when the stored record is no longer ``old`` (an
        operator changed it meanwhile)."""
        ...

    def add_key(self, key: KeyRecord) -> None: ...

    def key(self, key_id: str) -> KeyRecord | None: ...

    def keys_of(self, merchant_id: str) -> Sequence[KeyRecord]: ...

    def end_key(
        self, key_id: str, *, expires_at: dt.datetime | None, revoked_at: dt.datetime | None
    ) -> None:
        """Set when the key stops working (expiry, revocation); fields left None unchanged."""
        ...


class UsageKeys(Protocol):
    """API Gateway's API keys and usage plans (the per-merchant rate limits, ADR 0008)."""

    def plan_ids(self) -> Mapping[str, str]:
        """Usage plan id by tier, as Terraform created them (merchant_usage_plans)."""
        ...

    def create_key(self, merchant_id: str, value: str) -> str:
        """A new enabled API key of this value for the merchant; its id."""
        ...

    def attach(self, key_id: str, plan_id: str) -> None: ...

    def delete_key(self, key_id: str) -> None: ...


class RegistryError(Exception):
    """An operator's request the registry refuses (the message says why)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class MerchantRegistry:
    def __init__(
        self,
        store: MerchantStore,
        mode: str,
        clock: Callable[[], dt.datetime] = _now,
        token_bytes: Callable[[int], bytes] = secrets.token_bytes,
        usage: UsageKeys | None = None,
    ) -> None:
        """``usage`` None: merchants get no usage key (the authorizer's registry, which only
        reads, and the key-rule tests)."""
        self._store = store
        self._mode = mode
        self._clock = clock
        self._token_bytes = token_bytes
        self._usage = usage

    def create_merchant(
        self,
        merchant_id: str,
        *,
        display_name: str | None = None,
        settings: dict[str, str] | None = None,
        limits: MerchantLimits | None = None,
        tier: str = DEFAULT_TIER,
    ) -> IssuedKey:
        """A new merchant, its first key and, with usage plans, its API Gateway API key on the
        plan of its tier: no deployment (docs/decisions/0008)."""
        if MERCHANT_ID.fullmatch(merchant_id) is None:
            raise RegistryError("merchant id must be 1 to 64 letters, digits, _ or -")
        if TIER.fullmatch(tier) is None:
            raise RegistryError("tier must be 1 to 32 lowercase letters, digits or _")
        if self._store.merchant(merchant_id) is not None:
            raise RegistryError(f"merchant {merchant_id} exists already")
        now = self._clock()
        merchant = MerchantRecord(
            merchant_id=merchant_id,
            created_at=now,
            display_name=display_name,
            settings=settings or {},
            limits=limits or MerchantLimits(),
            tier=tier,
        )
        usage_key_id = None
        if self._usage is not None:
            usage_key_id, value = self._usage_key(merchant_id, tier)
            merchant = merchant.model_copy(
                update={"usage_key_id": usage_key_id, "usage_key": value}
            )
        issued, record = self._new_key(merchant_id, now)
        if not self._store.add_merchant(merchant, record):
            if self._usage is not None and usage_key_id is not None:
                # Lost a race for the id: the other onboarding's key is the merchant's.
                self._usage.delete_key(usage_key_id)
            raise RegistryError(f"merchant {merchant_id} exists already")
        return issued

    def attach_usage_key(self, merchant_id: str) -> MerchantRecord:
        """Give a merchant onboarded before usage plans its API key (idempotent): until then
        API Gateway refuses its requests, since every merchant route requires one."""
        if self._usage is None:
            raise RegistryError("this registry has no API Gateway usage plans to attach to")
        current = self.merchant(merchant_id)
        if current.usage_key_id is not None:
            return current
        key_id, value = self._usage_key(merchant_id, current.tier)
        changed = current.model_copy(update={"usage_key_id": key_id, "usage_key": value})
        if not self._store.replace_merchant(current, changed):
            self._usage.delete_key(key_id)
            raise RegistryError(f"merchant {merchant_id} changed meanwhile: retry")
        return changed

    def _usage_key(self, merchant_id: str, tier: str) -> tuple[str, str]:
        assert self._usage is not None
        plans = self._usage.plan_ids()
        if tier not in plans:
            known = ", ".join(sorted(plans)) or "none"
            raise RegistryError(f"no usage plan for tier {tier} (plans: {known})")
        value = new_usage_key(self._token_bytes)
        key_id = self._usage.create_key(merchant_id, value)
        try:
            self._usage.attach(key_id, plans[tier])
        except Exception:
            self._usage.delete_key(key_id)
            raise
        return key_id, value

    def issue_key(self, merchant_id: str) -> IssuedKey:
        """One more key for an existing merchant (the old ones keep working)."""
        self._active_merchant(merchant_id)
        issued, record = self._new_key(merchant_id, self._clock())
        self._store.add_key(record)
        return issued

    def rotate_key(
        self, merchant_id: str, key_id: str | None = None, overlap: dt.timedelta = DEFAULT_OVERLAP
    ) -> IssuedKey:
        """A new key, and the old one (``key_id``, or every key still working) ending after
        ``overlap``, so the merchant can deploy the new key before the old stops working."""
        self._active_merchant(merchant_id)
        now = self._clock()
        ends = rotation_expiry(now, overlap)
        old = [k for k in self._store.keys_of(merchant_id) if k.active_at(now)]
        if key_id is not None:
            old = [k for k in old if k.key_id == key_id]
            if not old:
                raise RegistryError(f"merchant {merchant_id} has no working key {key_id}")
        issued, record = self._new_key(merchant_id, now)
        self._store.add_key(record)
        for key in old:
            # Rotating twice never extends a key that already ends sooner.
            if key.expires_at is None or key.expires_at > ends:
                self._store.end_key(key.key_id, expires_at=ends, revoked_at=None)
        return issued

    def revoke_key(self, merchant_id: str, key_id: str) -> KeySummary:
        """The key stops working now (within the authorizer's cache TTL on AWS)."""
        key = self._store.key(key_id)
        if key is None or key.merchant_id != merchant_id:
            raise RegistryError(f"merchant {merchant_id} has no key {key_id}")
        now = self._clock()
        if key.revoked_at is None:
            self._store.end_key(key_id, expires_at=None, revoked_at=now)
        ended = self._store.key(key_id)
        assert ended is not None
        return summary(ended)

    def merchant_exists(self, merchant_id: str) -> bool:
        return self._store.merchant(merchant_id) is not None

    def keys(self, merchant_id: str) -> list[KeySummary]:
        return [summary(k) for k in self._store.keys_of(merchant_id)]

    def authenticate(self, authorization: str | None) -> Authenticated | Rejection | Denied:
        """Who an ``Authorization`` header is, and whether its merchant may use the API now:
        one key read, and one merchant read for a key that verifies."""
        outcome = authenticate(authorization, self._mode, self._store.key, self._clock())
        if isinstance(outcome, Rejection):
            return outcome
        merchant = self._store.merchant(outcome.merchant_id)
        if merchant is None:
            # A key outliving its merchant's record: as unknown as a key never issued.
            return Rejection.UNKNOWN
        return admit(dataclasses.replace(outcome, usage_key=merchant.usage_key), merchant.status)

    def suspend(self, merchant_id: str) -> MerchantRecord:
        """The merchant's keys are refused (403 ``merchant_suspended``) until it is
        reactivated; on AWS within the authorizer's cache TTL (docs/decisions/0008)."""
        return self._change_status(merchant_id, MerchantStatus.SUSPENDED)

    def reactivate(self, merchant_id: str) -> MerchantRecord:
        return self._change_status(merchant_id, MerchantStatus.ACTIVE)

    def close(self, merchant_id: str) -> MerchantRecord:
        """For good: a closed merchant is never reactivated (onboard a new one)."""
        return self._change_status(merchant_id, MerchantStatus.CLOSED)

    def merchant(self, merchant_id: str) -> MerchantRecord:
        found = self._store.merchant(merchant_id)
        if found is None:
            raise RegistryError(f"no merchant {merchant_id}")
        return found

    def _change_status(self, merchant_id: str, wanted: MerchantStatus) -> MerchantRecord:
        current = self.merchant(merchant_id)
        if current.status is wanted:
            return current
        if not status_change_allowed(current.status, wanted):
            raise RegistryError(
                f"merchant {merchant_id} is {current.status}: it cannot be {wanted}"
            )
        changed = current.model_copy(update={"status": wanted, "status_changed_at": self._clock()})
        if not self._store.replace_merchant(current, changed):
            raise RegistryError(f"merchant {merchant_id} changed meanwhile: retry")
        return changed

    def _active_merchant(self, merchant_id: str) -> MerchantRecord:
        merchant = self.merchant(merchant_id)
        if merchant.status is not MerchantStatus.ACTIVE:
            raise RegistryError(f"merchant {merchant_id} is {merchant.status}")
        return merchant

    def _new_key(self, merchant_id: str, now: dt.datetime) -> tuple[IssuedKey, KeyRecord]:
        key = new_key(self._mode, self._token_bytes)
        record = KeyRecord(key.key_id, merchant_id, key.mode, key_hash(key.text), now)
        issued = IssuedKey(
            merchant_id=merchant_id,
            api_key=key.text,
            key_id=key.key_id,
            prefix=key.prefix,
            created_at=now,
        )
        return issued, record


def summary(key: KeyRecord) -> KeySummary:
    return KeySummary(
        key_id=key.key_id,
        prefix=key.prefix,
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
    )
