"""Session-wide test set-up: the project's Terraform CLI configuration and the local emulator.

Tests under tests/integration and tests/e2e share one emulator, started on a free port for the
session (never the developer's 4566). Other tests must never reach it: their AWS calls go to
moto's in-process mock, so the emulator's endpoint is removed from their environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local import endpoints
from local.aws import emulator_client, emulator_env
from local.cli import spawn_emulator, stop_process_group
from local.toolchain import REPO_ROOT, terraform_env

os.environ.update(terraform_env())

EMULATOR_START_TIMEOUT_S = 30.0
LOCAL_ZIP = REPO_ROOT / "build" / "lambda" / "functions-local.zip"
LOCAL_SDK = REPO_ROOT / "build" / "lambda" / "local-sdk"
EMULATOR_DIRS = ("integration", "e2e")


@dataclass
class Emulator:
    endpoint: str
    port: int
    state_dir: Path
    log_path: Path
    api_endpoint: str

    def client(self, service: str) -> Any:
        return emulator_client(service, self.endpoint)

    def log_messages(self, group: str) -> list[str]:
        """Every message of a CloudWatch log group on the emulator, stream by stream."""
        return log_group_messages(self.client("logs"), group)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def log_group_messages(logs: Any, group: str) -> list[str]:
    """Every message of a log group, every page of both listings. DescribeLogStreams answers
    50 streams a page and EventBridge writes each event to a stream of its own, so once a
    session held more than 50 archived events (a chaos run makes hundreds) a one-page read
    missed most new payments' events; GetLogEvents pages too (1 MB or 10,000 events)."""
    messages: list[str] = []
    for page in logs.get_paginator("describe_log_streams").paginate(logGroupName=group):
        for stream in page["logStreams"]:
            token: str | None = None
            while True:
                extra = {"nextToken": token} if token else {}
                answer = logs.get_log_events(
                    logGroupName=group,
                    logStreamName=stream["logStreamName"],
                    startFromHead=True,
                    **extra,
                )
                messages += [event["message"] for event in answer["events"]]
                # The forward token repeats once the stream's end is reached.
                if not answer["events"] or answer.get("nextForwardToken") in (None, token):
                    break
                token = answer["nextForwardToken"]
    return messages


def ensure_lambda_build() -> None:
    if not LOCAL_ZIP.exists() or not LOCAL_SDK.is_dir():
        subprocess.run([sys.executable, "-m", "local.build_lambda"], cwd=REPO_ROOT, check=True)


_FOLDER_RANK = {"e2e": 0, "integration": 1}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank: dict[str, int] = {}
    for item in items:
        parts = Path(str(item.fspath)).relative_to(REPO_ROOT / "tests").parts
        folder = parts[0] if parts else ""
        rank[item.nodeid] = _FOLDER_RANK.get(folder, len(_FOLDER_RANK))
        if folder in EMULATOR_DIRS:
            item.add_marker(pytest.mark.integration if folder == "integration" else pytest.mark.e2e)
            # Under `pytest -n N --dist loadgroup` (make pytest) each emulator folder runs in
            # one worker with its own emulator: the session's applies are shared within it.
            item.add_marker(pytest.mark.xdist_group(folder))
    # xdist hands out work in collection order, and each emulator folder is one unit of it: the
    # end-to-end folder, the longest (its apply alone takes minutes), goes first and the
    # integration folder next, so neither waits behind unit tests the other workers can share.
    # The sort is stable: each folder keeps its order (tests/e2e/conftest.py: load, chaos last).
    items.sort(key=lambda item: rank[item.nodeid])


@pytest.fixture(autouse=True)
def _isolate_from_emulator(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests that do not use the emulator must not talk to it by accident."""
    if request.node.get_closest_marker("integration") or request.node.get_closest_marker("e2e"):
        return
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    ensure_lambda_build()
    # Every listener binds a port the kernel picks, and the emulator names them (with its pid)
    # once all serve: parallel test workers' emulators cannot take each other's ports.
    state_dir = tmp_path_factory.mktemp("emulator")
    log_path = state_dir / "emulator.log"
    process = spawn_emulator(state_dir, log_path)
    published = endpoints.wait(process, state_dir, EMULATOR_START_TIMEOUT_S)
    if published is None or published.api is None:
        stop_process_group(process)
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
        pytest.fail(f"emulator did not start:\n{tail}")
    endpoint = published.aws
    handle = Emulator(endpoint, published.aws_port, state_dir, log_path, published.api)
    # Terraform (pytest-terraform) and boto3 in the emulator tests read these.
    session_env = {**emulator_env(endpoint), "TF_VAR_endpoint_url": endpoint}
    saved = {key: os.environ.get(key) for key in session_env}
    os.environ.update(session_env)
    try:
        yield handle
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        stop_process_group(process)
