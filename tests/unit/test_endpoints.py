from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from local import endpoints


def published_by(pid: int) -> endpoints.Published:
    return endpoints.Published(pid, "http://127.0.0.1:1", "https://127.0.0.1:2", "c.pem", None)


def test_only_the_file_the_started_process_wrote_counts(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        endpoints.publish(tmp_path, published_by(process.pid + 1))  # another emulator's
        assert endpoints.wait(process, tmp_path, timeout_s=0.5) is None
        endpoints.publish(tmp_path, published_by(process.pid))
        found = endpoints.wait(process, tmp_path, timeout_s=0.5)
        assert found is not None and found.aws_port == 1
    finally:
        process.kill()
        process.wait()


def test_a_process_that_exits_is_not_waited_for(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert endpoints.wait(process, tmp_path, timeout_s=30) is None  # returns at once
