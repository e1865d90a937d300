"""`make up` / `make down` semantics: one emulator, stopped completely, clear port errors."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from local import cli
from local.emulator import free_port


@pytest.fixture
def endpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[cli.Endpoints]:
    monkeypatch.setattr(cli, "STATE_DIR", tmp_path)
    monkeypatch.setattr(cli, "PID_FILE", tmp_path / "emulator.pid")
    monkeypatch.setattr(cli, "LOG_FILE", tmp_path / "emulator.log")
    monkeypatch.setattr(cli, "LOCAL_ENV_DIR", tmp_path / "env")
    yield cli.Endpoints(aws_port=free_port(), api_port=free_port())
    cli.stop_emulator()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_up_twice_leaves_one_emulator_and_down_stops_it(endpoints: cli.Endpoints) -> None:
    first = cli.start_emulator(endpoints)
    second = cli.start_emulator(endpoints)
    assert first == second and cli.healthy(endpoints)
    assert cli.stop_emulator() is True
    assert not alive(first)
    assert not cli.PID_FILE.exists()
    assert cli.stop_emulator() is False  # nothing of ours is left to stop


def test_a_busy_port_is_reported_clearly(endpoints: cli.Endpoints) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", endpoints.aws_port))
        squatter.listen()
        with pytest.raises(SystemExit, match=f"port {endpoints.aws_port} is in use"):
            cli.start_emulator(endpoints)
    assert not cli.PID_FILE.exists()


def test_down_does_not_touch_a_process_it_did_not_start(endpoints: cli.Endpoints) -> None:
    cli.PID_FILE.write_text(f"{os.getpid()} {endpoints.aws_port}\n")
    assert cli.running_pid() is None  # a live pid that is not our emulator is ignored
    assert cli.stop_emulator() is False
    assert alive(os.getpid())
