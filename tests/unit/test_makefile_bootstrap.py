"""A fresh machine needs nothing but Python and Terraform: without uv on the PATH the Makefile
installs its own pinned uv into .tools/ and every later step uses that one."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from local.build_lambda import uv_command

REPO_ROOT = Path(__file__).resolve().parents[2]


def dry_run(path: str) -> str:
    """What `make` would run to create the Python environment, forced as if nothing existed."""
    env = {k: v for k, v in os.environ.items() if k != "UV"}
    env["PATH"] = path
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", ".venv/.synced"],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def system_path_without_uv(tmp_path: Path) -> str:
    """A PATH with make, python3 and a shell, and no uv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("make", "python3", "bash", "sh", "env"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def test_without_uv_the_makefile_installs_its_pinned_uv_and_syncs_with_it(tmp_path: Path) -> None:
    planned = dry_run(system_path_without_uv(tmp_path))
    assert "python3 -m venv .tools" in planned
    assert "pip install --quiet --disable-pip-version-check uv==" in planned
    assert ".tools/bin/uv sync --frozen" in planned
    assert "python3 -m uv" not in planned


def test_a_uv_on_the_path_is_used_and_nothing_is_installed(tmp_path: Path) -> None:
    path = system_path_without_uv(tmp_path)
    fake_uv = tmp_path / "bin" / "uv"
    fake_uv.write_text("#!/bin/sh\nexit 0\n")
    fake_uv.chmod(fake_uv.stat().st_mode | stat.S_IXUSR)
    planned = dry_run(path)
    assert ".tools" not in planned
    assert f"{fake_uv} sync --frozen" in planned


def test_the_build_runs_the_uv_the_makefile_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV", ".tools/bin/uv")
    assert uv_command() == [".tools/bin/uv"]
    monkeypatch.delenv("UV")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert uv_command()[1:] == ["-m", "uv"]
