"""``python -m local.cli merchant`` (what ``make merchant ID=…`` runs): the exact JSON other
tools read, rotation and revocation, refusals as one line and a non-zero exit. The registry is
the in-memory one; the emulator's is the same service over DynamoDB."""

from __future__ import annotations

import json

import pytest

from functions.domain.merchant_keys import Authenticated, Denied, MerchantStatus, Rejection
from functions.services.merchant_registry import MerchantRegistry
from local import cli
from tests.unit.merchants.memory_store import MemoryMerchantStore, MemoryUsageKeys


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> MerchantRegistry:
    registry = MerchantRegistry(MemoryMerchantStore(), "test")
    monkeypatch.setattr(cli, "merchant_registry", lambda args, endpoints: registry)
    return registry


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["merchant", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_create_json_prints_exactly_the_merchant_and_its_key(
    registry: MerchantRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "create", "--id", "m_1", "--json")
    assert code == 0
    credentials = json.loads(out)
    assert list(credentials) == ["merchant_id", "api_key"]
    assert credentials["merchant_id"] == "m_1" and credentials["api_key"].startswith("sk_test_")
    assert out.count("\n") == 1
    assert isinstance(registry.authenticate(f"Bearer {credentials['api_key']}"), Authenticated)


def test_a_merchant_is_created_once(
    registry: MerchantRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "create", "--id", "m_1", "--json")
    code, out, err = run(capsys, "create", "--id", "m_1", "--json")
    assert (code, out) == (1, "") and err == "error: merchant m_1 exists already\n"


def test_rotate_then_revoke(registry: MerchantRegistry, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "create", "--id", "m_1", "--json")
    first = json.loads(out)["api_key"]
    code, out, _ = run(capsys, "rotate-key", "--id", "m_1", "--overlap-hours", "0", "--json")
    second = json.loads(out)["api_key"]
    assert code == 0 and second != first
    assert registry.authenticate(f"Bearer {first}") == Rejection.EXPIRED
    key_id = second.split("_")[2]
    code, out, _ = run(capsys, "revoke-key", "--id", "m_1", "--key-id", key_id, "--json")
    assert code == 0 and json.loads(out)["revoked_at"] is not None
    assert registry.authenticate(f"Bearer {second}") == Rejection.REVOKED
    code, _, err = run(capsys, "revoke-key", "--id", "m_2", "--key-id", key_id)
    assert code == 1 and "no key" in err


def test_suspend_reactivate_and_close(
    registry: MerchantRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "create", "--id", "m_1", "--json")
    key = f"Bearer {json.loads(out)['api_key']}"
    code, out, _ = run(capsys, "suspend", "--id", "m_1", "--json")
    assert code == 0 and json.loads(out)["status"] == "suspended"
    assert registry.authenticate(key) == Denied("m_1", MerchantStatus.SUSPENDED)
    code, out, _ = run(capsys, "reactivate", "--id", "m_1")
    assert (code, out) == (0, "m_1: active\n")
    assert isinstance(registry.authenticate(key), Authenticated)
    assert run(capsys, "close", "--id", "m_1")[0] == 0
    code, out, err = run(capsys, "reactivate", "--id", "m_1")
    assert (code, out) == (1, "") and err == "error: merchant m_1 is closed: it cannot be active\n"
    code, _, err = run(capsys, "suspend", "--id", "m_nobody")
    assert code == 1 and "no merchant" in err


def test_create_puts_the_merchant_on_its_tier_and_attach_usage_key_backfills(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store, usage = MemoryMerchantStore(), MemoryUsageKeys({"standard": "p1", "gold": "p2"})
    MerchantRegistry(store, "test").create_merchant("m_old")
    registry = MerchantRegistry(store, "test", usage=usage)
    monkeypatch.setattr(cli, "merchant_registry", lambda args, endpoints: registry)
    assert run(capsys, "create", "--id", "m_gold", "--tier", "gold", "--json")[0] == 0
    assert store.merchants["m_gold"].tier == "gold"
    assert usage.keys[store.merchants["m_gold"].usage_key_id or ""][2] == "p2"
    code, out, _ = run(capsys, "attach-usage-key", "--id", "m_old")
    key_id = store.merchants["m_old"].usage_key_id
    assert (code, out) == (0, f"m_old: usage key {key_id} on tier standard\n")
    code, _, err = run(capsys, "create", "--id", "m_x", "--tier", "platinum")
    assert code == 1 and "no usage plan for tier platinum" in err
