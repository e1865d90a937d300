from __future__ import annotations

from pathlib import Path

import pytest

from local import cli


def test_an_unknown_environment_is_refused() -> None:
    with pytest.raises(SystemExit, match="no environment named 'qa'"):
        cli.main(["tf", "plan", "--env", "qa"])


def test_a_real_environment_needs_its_backend_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "environments" / "dev").mkdir(parents=True)
    monkeypatch.setattr(cli, "REPO_ROOT", tmp_path)
    with pytest.raises(SystemExit, match=r"backend\.hcl is missing: copy backend\.hcl\.example"):
        cli.main(["tf", "plan", "--env", "dev"])


def test_ports_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_AWS_PORT", "4999")
    monkeypatch.setenv("LOCAL_API_PORT", "8999")
    endpoints = cli.Endpoints.from_environ()
    assert (endpoints.aws, endpoints.api) == ("http://127.0.0.1:4999", "http://127.0.0.1:8999")
