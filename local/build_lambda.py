"""Build the Lambda deployment packages: ``make build``.

One zip of ``functions/`` plus its runtime dependencies, built for two targets:

- ``aws``: the Lambda runtime (python3.12 on x86_64, manylinux wheels), what dev, staging and
  prod deploy;
- ``local``: this machine's Python, what ``environments/local`` deploys to the emulator, whose
  workers run here (compiled wheels such as pydantic-core must match the interpreter).

Packages the Lambda runtime already provides (boto3, botocore and their dependencies) are left
out of both zips; the emulator gives its workers the same SDK in ``build/lambda/local-sdk``.
Zips are reproducible: sorted entries, fixed timestamps and permissions, no bytecode, so an
unchanged build has the same hash and Terraform does not redeploy. Beside each zip, its CycloneDX
SBOM (``functions-<target>.cdx.json``, ``local/sbom.py``), read from the zip itself.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from local.sbom import write_sbom

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = REPO_ROOT / "build" / "lambda"
SOURCE_PACKAGE = REPO_ROOT / "functions"
FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
# Provided by the Lambda Python runtime; bundling them would only grow every zip.
RUNTIME_PROVIDED = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "six",
    "urllib3",
)
EXCLUDED_PARTS = {"__pycache__"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class Target:
    name: str
    python_version: str
    python_platform: str

    @property
    def zip_path(self) -> Path:
        return BUILD_DIR / f"functions-{self.name}.zip"


def local_platform() -> str:
    import platform

    return f"{platform.machine()}-manylinux_2_28"


TARGETS = {
    "aws": Target("aws", "3.12", "x86_64-manylinux2014"),
    "local": Target(
        "local", f"{sys.version_info.major}.{sys.version_info.minor}", local_platform()
    ),
}


def uv_command() -> list[str]:
    """The uv the Makefile chose (``UV``: one on the PATH, or the one it installed in .tools/)."""
    chosen = os.environ.get("UV", "").strip()
    if chosen:
        return shlex.split(chosen)
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def uv(*args: str) -> str:
    command = uv_command()
    done = subprocess.run(
        [*command, *args], cwd=REPO_ROOT, check=True, capture_output=True, text=True
    )
    return done.stdout


def runtime_requirements() -> list[str]:
    """The locked runtime dependencies, minus what the Lambda runtime provides."""
    exported = uv(
        "export",
        "--frozen",
        "--no-dev",
        "--no-hashes",
        "--no-emit-project",
        "--no-header",
        "--no-annotate",
    )
    requirements = []
    for line in exported.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name = line.split("==")[0].split(";")[0].strip().lower()
        if name not in RUNTIME_PROVIDED:
            requirements.append(line)
    return requirements


def locked_version(package: str) -> str:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    for entry in lock["package"]:
        if entry["name"] == package:
            return str(entry["version"])
    raise SystemExit(f"{package} is not in uv.lock")


def project_version() -> str:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return str(project["version"])


def install(requirements: list[str], target_dir: Path, python_version: str, platform: str) -> None:
    if target_dir.exists():
        shutil.rmtree(target_dir)
    target_dir.mkdir(parents=True)
    requirements_file = target_dir.parent / f"{target_dir.name}.requirements.txt"
    requirements_file.write_text("\n".join(requirements) + "\n")
    uv(
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--target",
        str(target_dir),
        "--python-version",
        python_version,
        "--python-platform",
        platform,
        "-r",
        str(requirements_file),
    )


def packaged_files(root: Path) -> list[tuple[str, Path]]:
    files = []
    for path in root.rglob("*"):
        if (
            not path.is_file()
            or EXCLUDED_PARTS & set(path.parts)
            or path.suffix in EXCLUDED_SUFFIXES
        ):
            continue
        files.append((path.relative_to(root).as_posix(), path))
    return files


def write_reproducible_zip(zip_path: Path, entries: list[tuple[str, Path]]) -> str:
    staging = zip_path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(
        staging, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9
    ) as archive:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIMESTAMP)
            info.external_attr = (0o755 if path.stat().st_mode & 0o111 else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    staging.replace(zip_path)
    return hashlib.sha256(zip_path.read_bytes()).hexdigest()


def build_target(target: Target, requirements: list[str]) -> Path:
    deps_dir = BUILD_DIR / f"deps-{target.name}"
    install(requirements, deps_dir, target.python_version, target.python_platform)
    entries = packaged_files(deps_dir)
    entries += [(f"functions/{name}", path) for name, path in packaged_files(SOURCE_PACKAGE)]
    digest = write_reproducible_zip(target.zip_path, entries)
    sbom = write_sbom(
        target.zip_path,
        REPO_ROOT / "uv.lock",
        subject="functions",
        subject_version=project_version(),
        properties=[
            ("aws-payments-blueprint:lambda:target", target.name),
            ("aws-payments-blueprint:lambda:python_version", target.python_version),
            ("aws-payments-blueprint:lambda:python_platform", target.python_platform),
        ],
    )
    print(
        f"built {target.zip_path.name} sha256={digest[:16]} "
        f"python{target.python_version} {target.python_platform}, SBOM {sbom.name}"
    )
    return target.zip_path


def build_local_sdk() -> Path:
    """The SDK the Lambda runtime ships, installed for the emulator's workers."""
    sdk_dir = BUILD_DIR / "local-sdk"
    version = locked_version("boto3")
    marker = sdk_dir / ".boto3-version"
    if marker.exists() and marker.read_text() == version:
        return sdk_dir
    staging = BUILD_DIR / "local-sdk.tmp"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    uv(
        "pip",
        "install",
        "--quiet",
        "--target",
        str(staging),
        "--python",
        sys.executable,
        f"boto3=={version}",
    )
    (staging / ".boto3-version").write_text(version)
    if sdk_dir.exists():
        shutil.rmtree(sdk_dir)
    staging.rename(sdk_dir)
    return sdk_dir


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--target",
        choices=sorted(TARGETS),
        action="append",
        help="build only this target (repeatable); default: all",
    )
    args = parser.parse_args(argv)
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    requirements = runtime_requirements()
    for name in args.target or sorted(TARGETS):
        build_target(TARGETS[name], requirements)
    build_local_sdk()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
