"""bench.run starts one emulator for every benchmark that meters on it, and only then."""

from __future__ import annotations

import types
from typing import Any

import pytest

from bench import run
from local import cli


def module(name: str, uses: bool) -> types.ModuleType:
    made = types.ModuleType(f"bench.{name}")
    if uses:
        made.USES_EMULATOR = True  # type: ignore[attr-defined]
    return made


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []

    def up(endpoints: cli.Endpoints) -> dict[str, object]:
        seen.append("up")
        return {}

    monkeypatch.setattr(cli, "running_pid", lambda: None)
    monkeypatch.setattr(cli, "cmd_up", up)
    monkeypatch.setattr(cli, "stop_emulator", lambda: seen.append("down"))
    return seen


def test_two_benchmarks_on_the_emulator_share_one_apply(calls: list[str]) -> None:
    with run.one_emulator([module("a", True), module("b", False), module("c", True)]):
        calls.append("benchmarks")
    assert calls == ["up", "benchmarks", "down"]


def test_it_is_stopped_when_a_benchmark_fails(calls: list[str]) -> None:
    with pytest.raises(RuntimeError), run.one_emulator([module("a", True), module("c", True)]):
        raise RuntimeError("a benchmark failed")
    assert calls == ["up", "down"]


@pytest.mark.parametrize(
    ("modules", "running"),
    [
        ([module("a", True)], False),  # one benchmark starts its own, as when run alone
        ([module("a", True), module("b", True)], True),  # `make up`'s emulator is used as is
    ],
)
def test_otherwise_it_leaves_the_emulator_alone(
    calls: list[str], monkeypatch: pytest.MonkeyPatch, modules: list[Any], running: bool
) -> None:
    if running:
        monkeypatch.setattr(cli, "running_pid", lambda: 4242)
        monkeypatch.setattr(cli, "healthy", lambda endpoints: True)
    with run.one_emulator(modules):
        pass
    assert calls == []
