"""Where a running emulator listens: published by the emulator itself, read by whoever started it.

An endpoint that answers is not proof that it belongs to the emulator one started: tests and
benchmarks start several emulators side by side, and a port picked free and bound later can be
taken in between by another. So the emulator binds its listeners (port 0 where asked: the
kernel picks, nothing can take it in between), and only once all of them serve writes
``<state dir>/endpoints.json`` with its own pid. A starter deletes that file before spawning and
accepts the endpoints only from the file that names its process.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

FILE_NAME = "endpoints.json"


@dataclass(frozen=True)
class Published:
    pid: int
    aws: str  # plain HTTP: Terraform, tests and tools
    aws_tls: str  # HTTPS (aws:SecureTransport, local/tls.py): the Lambda workers
    ca_bundle: str  # the TLS listener's self-signed certificate, for ``verify=``
    api: str | None  # the local API (API Gateway's REST proxy), None when turned off

    @property
    def aws_port(self) -> int:
        return int(self.aws.rsplit(":", 1)[1])


def publish(state_dir: Path, published: Published) -> None:
    """Written whole or not at all (a reader never sees half a file)."""
    partial = state_dir / f".{FILE_NAME}.{published.pid}"
    partial.write_text(json.dumps(asdict(published)))
    os.replace(partial, state_dir / FILE_NAME)


def published(state_dir: Path) -> Published:
    """What the emulator that uses ``state_dir`` published (FileNotFoundError before that)."""
    return Published(**json.loads((state_dir / FILE_NAME).read_text()))


def forget(state_dir: Path) -> None:
    (state_dir / FILE_NAME).unlink(missing_ok=True)


def wait(process: subprocess.Popen[bytes], state_dir: Path, timeout_s: float) -> Published | None:
    """The endpoints ``process`` published, or None if it exited or took longer than timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            found = published(state_dir)
        except FileNotFoundError:
            found = None
        if found is not None and found.pid == process.pid:
            return found
        time.sleep(0.1)
    return None
