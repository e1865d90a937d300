from __future__ import annotations

from pathlib import Path

import pytest

from local.backend_config import write_backend_files

DEV_HCL = 'bucket     = "payments-tfstate-111122223333-eu-west-1"\nregion     = "eu-west-1"\n'


def _environments(tmp_path: Path, *names: str) -> Path:
    for name in names:
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "backend.tf").write_text('terraform {\n  backend "s3" {}\n}\n')
    return tmp_path


def test_each_configured_environment_gets_its_backend_hcl(tmp_path: Path) -> None:
    environments = _environments(tmp_path, "dev", "prod", "bootstrap")
    written = write_backend_files(
        {"backend_hcl": {"dev": DEV_HCL}, "bootstrap_backend_hcl": 'key = "b"\n'}, environments
    )
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "bootstrap/backend.hcl",
        "dev/backend.hcl",
    ]
    assert (environments / "dev" / "backend.hcl").read_text() == DEV_HCL
    # An environment deployed from another account is left alone.
    assert not (environments / "prod" / "backend.hcl").exists()


def test_an_environment_without_a_root_module_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    environments = _environments(tmp_path, "dev")
    with pytest.raises(SystemExit, match="configures 'qa'"):
        write_backend_files({"backend_hcl": {"dev": DEV_HCL, "qa": DEV_HCL}}, environments)
    assert not (environments / "dev" / "backend.hcl").exists()


def test_no_bootstrap_outputs_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="apply environments/bootstrap first"):
        write_backend_files({}, tmp_path)
