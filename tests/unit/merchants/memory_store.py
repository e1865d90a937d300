"""The merchant registry's store in memory, for the service and authorizer tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from functions.contracts.merchants import MerchantRecord
from functions.domain.merchant_keys import KeyRecord


class MemoryMerchantStore:
    def __init__(self) -> None:
        self.merchants: dict[str, MerchantRecord] = {}
        self.keys: dict[str, KeyRecord] = {}
        self.key_reads = 0

    def add_merchant(self, merchant: MerchantRecord, first_key: KeyRecord) -> bool:
        if merchant.merchant_id in self.merchants:
            return False
        self.merchants[merchant.merchant_id] = merchant
        self.keys[first_key.key_id] = first_key
        return True

    def merchant(self, merchant_id: str) -> MerchantRecord | None:
        return self.merchants.get(merchant_id)

    def replace_merchant(self, old: MerchantRecord, new: MerchantRecord) -> bool:
        if self.merchants.get(old.merchant_id) != old:
            return False
        self.merchants[new.merchant_id] = new
        return True

    def add_key(self, key: KeyRecord) -> None:
        assert key.key_id not in self.keys
        self.keys[key.key_id] = key

    def key(self, key_id: str) -> KeyRecord | None:
        self.key_reads += 1
        return self.keys.get(key_id)

    def keys_of(self, merchant_id: str) -> Sequence[KeyRecord]:
        return [k for k in self.keys.values() if k.merchant_id == merchant_id]

    def end_key(
        self, key_id: str, *, expires_at: dt.datetime | None, revoked_at: dt.datetime | None
    ) -> None:
        key = self.keys[key_id]
        self.keys[key_id] = dataclasses.replace(
            key,
            expires_at=expires_at or key.expires_at,
            revoked_at=revoked_at or key.revoked_at,
        )


class MemoryUsageKeys:
    """API Gateway's keys and usage plans in memory: key id => (merchant, value, plan)."""

    def __init__(self, plans: dict[str, str] | None = None) -> None:
        self.plans = {"standard": "plan_std"} if plans is None else plans
        self.keys: dict[str, tuple[str, str, str | None]] = {}
        self.fail_attach = False

    def plan_ids(self) -> dict[str, str]:
        return self.plans

    def create_key(self, merchant_id: str, value: str) -> str:
        key_id = f"key{len(self.keys) + 1}"
        self.keys[key_id] = (merchant_id, value, None)
        return key_id

    def attach(self, key_id: str, plan_id: str) -> None:
        if self.fail_attach:
            raise RuntimeError("API Gateway is down")
        merchant_id, value, _ = self.keys[key_id]
        self.keys[key_id] = (merchant_id, value, plan_id)

    def delete_key(self, key_id: str) -> None:
        del self.keys[key_id]
