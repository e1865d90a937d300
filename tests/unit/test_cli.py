from __future__ import annotations

import os
import subprocess
import sys
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
    with pytest.raises(SystemExit, match=r"backend\.hcl is missing: .*make backend-config"):
        cli.main(["tf", "plan", "--env", "dev"])


_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


def _no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment in which the SDK's whole chain finds nothing (no instance metadata)."""
    for name in _CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    isolated = {
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in isolated.items():
        monkeypatch.setenv(name, value)
    return isolated


def _dev_with_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dev = tmp_path / "repo" / "environments" / "dev"
    dev.mkdir(parents=True)
    (dev / "backend.hcl").write_text('bucket = "b"\n')
    monkeypatch.setattr(cli, "REPO_ROOT", tmp_path / "repo")


def test_without_credentials_a_real_environment_stops_before_terraform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_credentials(tmp_path, monkeypatch)
    _dev_with_backend(tmp_path, monkeypatch)

    def terraform_must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"terraform ran without credentials: {args}")

    monkeypatch.setattr(cli, "terraform", terraform_must_not_run)
    with pytest.raises(
        SystemExit, match=r"^error: no usable AWS credentials for dev \(none found\)"
    ):
        cli.main(["tf", "plan", "--env", "dev"])


def test_a_profile_that_does_not_exist_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_credentials(tmp_path, monkeypatch)
    monkeypatch.setenv("AWS_PROFILE", "payments-dev")
    _dev_with_backend(tmp_path, monkeypatch)
    with pytest.raises(SystemExit, match=r"no usable AWS credentials for dev \(.*payments-dev"):
        cli.main(["tf", "apply", "--env", "dev"])


def test_a_failing_terraform_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_credentials(tmp_path, monkeypatch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    _dev_with_backend(tmp_path, monkeypatch)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "terraform"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(SystemExit) as stopped:
        cli.main(["tf", "plan", "--env", "dev"])
    assert str(stopped.value.code) == (
        "error: terraform init failed in environments/dev (exit 3); its error is above"
    )


def _recording_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A terraform on PATH that records each command line and succeeds."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    fake = bin_dir / "terraform"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    return calls


def test_plan_saves_the_plan_and_apply_carries_out_that_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_credentials(tmp_path, monkeypatch)
    _dev_with_backend(tmp_path, monkeypatch)
    calls = _recording_terraform(tmp_path, monkeypatch)
    dev = tmp_path / "repo" / "environments" / "dev"

    cli.main(["tf", "plan", "--env", "dev"])
    (dev / "saved.tfplan").write_text("plan")  # what terraform plan -out writes
    cli.main(["tf", "apply", "--env", "dev"])

    assert [line.split(" ", 1)[1] for line in calls.read_text().splitlines()] == [
        "init -input=false -backend-config=backend.hcl",
        "plan -input=false -out=saved.tfplan",
        "init -input=false -backend-config=backend.hcl",
        "apply -input=false saved.tfplan",
    ]
    # Applied once: a second apply needs a new plan.
    assert not (dev / "saved.tfplan").exists()


def test_destroy_saves_a_destroy_plan_for_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _no_credentials(tmp_path, monkeypatch)
    _dev_with_backend(tmp_path, monkeypatch)
    calls = _recording_terraform(tmp_path, monkeypatch)
    cli.main(["tf", "destroy", "--env", "dev"])
    assert [line.split(" ", 1)[1] for line in calls.read_text().splitlines()] == [
        "init -input=false -backend-config=backend.hcl",
        "plan -destroy -input=false -out=saved.tfplan",
    ]
    assert "then `make apply ENV=dev` carries it out" in capsys.readouterr().out


def test_destroying_the_local_environment_points_at_make_down() -> None:
    with pytest.raises(SystemExit, match="make down"):
        cli.main(["tf", "destroy", "--env", "local"])


def test_apply_without_a_saved_plan_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_credentials(tmp_path, monkeypatch)
    _dev_with_backend(tmp_path, monkeypatch)
    calls = _recording_terraform(tmp_path, monkeypatch)
    with pytest.raises(SystemExit, match=r"saved\.tfplan is missing: run `make plan ENV=dev`"):
        cli.main(["tf", "apply", "--env", "dev"])
    assert not calls.exists()


def test_make_plan_without_credentials_prints_one_line_and_exits_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make plan ENV=dev`'s command, as a process: one line on stderr, exit 1, no traceback."""
    isolated = _no_credentials(tmp_path, monkeypatch)
    dev = tmp_path / "repo" / "environments" / "dev"
    dev.mkdir(parents=True)
    (dev / "backend.hcl").write_text('bucket = "b"\n')
    env = {name: value for name, value in os.environ.items() if name not in _CREDENTIAL_VARIABLES}
    # The entry point of `make plan`, with the repository root pointed at the fixture.
    program = (
        "import sys; from pathlib import Path; from local import cli; "
        "cli.REPO_ROOT = Path(sys.argv[1]); "
        "sys.exit(cli.main(['tf', 'plan', '--env', 'dev']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(tmp_path / "repo")],
        env={**env, **isolated},
        cwd=Path(cli.__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: no usable AWS credentials for dev (none found): sign in first, e.g. "
        "`aws sso login --profile <profile>` and `export AWS_PROFILE=<profile>`"
    ]


def test_ports_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_AWS_PORT", "4999")
    monkeypatch.setenv("LOCAL_API_PORT", "8999")
    endpoints = cli.Endpoints.from_environ()
    assert (endpoints.aws, endpoints.api) == ("http://127.0.0.1:4999", "http://127.0.0.1:8999")
