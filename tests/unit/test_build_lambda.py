from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from local import build_lambda

BUILT_ZIPS = [build_lambda.TARGETS[name].zip_path for name in sorted(build_lambda.TARGETS)]


def make_tree(root: Path) -> None:
    (root / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "pkg" / "b.py").write_text("B = 2\n")
    (root / "pkg" / "a.py").write_text("A = 1\n")
    (root / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    (root / "tool.sh").write_text("#!/bin/sh\n")
    (root / "tool.sh").chmod(0o755)


def test_zips_are_reproducible_and_normalised(tmp_path: Path) -> None:
    make_tree(tmp_path / "src")
    first = build_lambda.write_reproducible_zip(
        tmp_path / "one.zip", build_lambda.packaged_files(tmp_path / "src")
    )
    (tmp_path / "src" / "pkg" / "a.py").touch()  # a new mtime must not change the zip
    second = build_lambda.write_reproducible_zip(
        tmp_path / "two.zip", build_lambda.packaged_files(tmp_path / "src")
    )
    assert first == second
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names) == ["pkg/a.py", "pkg/b.py", "tool.sh"]
    assert {info.date_time for info in infos} == {build_lambda.FIXED_TIMESTAMP}
    modes = {info.filename: info.external_attr >> 16 for info in infos}
    assert modes == {"pkg/a.py": 0o644, "pkg/b.py": 0o644, "tool.sh": 0o755}


def test_runtime_requirements_leave_out_what_lambda_provides() -> None:
    names = {line.split("==")[0].lower() for line in build_lambda.runtime_requirements()}
    assert {"aws-lambda-powertools", "pydantic", "pydantic-core", "cryptography"} <= names
    assert not names & set(build_lambda.RUNTIME_PROVIDED)


@pytest.mark.parametrize("zip_path", BUILT_ZIPS, ids=lambda p: p.name)
def test_built_packages_hold_the_code_and_its_dependencies(zip_path: Path) -> None:
    if not zip_path.exists():
        pytest.fail(f"{zip_path} is missing: `make test` builds it first (make build)")
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
    assert "functions/handlers/assess_risk.py" in names
    assert "aws_lambda_powertools/__init__.py" in names
    assert any(name.startswith("pydantic_core/_pydantic_core") for name in names)
    assert not any(name.startswith(("boto3/", "botocore/")) for name in names)
    assert not any(name.endswith(".pyc") for name in names)


def test_compiled_wheels_match_each_target() -> None:
    tags = {}
    for name, target in build_lambda.TARGETS.items():
        with zipfile.ZipFile(target.zip_path) as archive:
            core = [n for n in archive.namelist() if n.startswith("pydantic_core/_pydantic_core")]
        tags[name] = core[0]
    assert "cpython-312-x86_64-linux-gnu" in tags["aws"]
    version = build_lambda.TARGETS["local"].python_version.replace(".", "")
    assert f"cpython-{version}" in tags["local"]


def test_an_unchanged_build_has_the_same_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_lambda, "BUILD_DIR", tmp_path)
    requirements = build_lambda.runtime_requirements()
    target = build_lambda.TARGETS["local"]
    first = hashlib.sha256(build_lambda.build_target(target, requirements).read_bytes())
    second = hashlib.sha256(build_lambda.build_target(target, requirements).read_bytes())
    assert first.hexdigest() == second.hexdigest()
