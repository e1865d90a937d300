from __future__ import annotations

import hashlib
import json
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packaging.utils import canonicalize_name

from local import build_lambda, sbom

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILT_ZIPS = [build_lambda.TARGETS[name].zip_path for name in sorted(build_lambda.TARGETS)]


def dist_info_dirs(zip_path: Path) -> set[tuple[str, str]]:
    """(name, version) of every distribution in the zip, from its `.dist-info` folder names."""
    with zipfile.ZipFile(zip_path) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist() if "/" in name}
    found: set[tuple[str, str]] = set()
    for top in tops:
        if top.endswith(".dist-info"):
            name, version = top.removesuffix(".dist-info").rsplit("-", 1)
            found.add((canonicalize_name(name), version))
    return found


def listed(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(canonicalize_name(c["name"]), c["version"]) for c in document["components"]}


def locked_hashes() -> dict[str, set[str]]:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    return {
        f"{canonicalize_name(p['name'])}@{p.get('version')}": {
            w["hash"].removeprefix("sha256:") for w in p.get("wheels", [])
        }
        for p in lock["package"]
    }


def assert_valid_cyclonedx(text: str) -> None:
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, error


@pytest.mark.parametrize("zip_path", BUILT_ZIPS, ids=lambda p: p.name)
def test_each_built_zip_has_an_sbom_of_exactly_its_distributions(zip_path: Path) -> None:
    sbom_path = sbom.sbom_path(zip_path)
    if not zip_path.exists() or not sbom_path.exists():
        pytest.fail(f"{zip_path} or {sbom_path.name} is missing: `make test` builds them first")
    text = sbom_path.read_text()
    assert_valid_cyclonedx(text)
    document = json.loads(text)
    in_zip = dist_info_dirs(zip_path)
    assert {"pydantic", "aws-lambda-powertools", "cryptography"} <= {n for n, _ in in_zip}
    assert listed(document) == in_zip
    subject = document["metadata"]["component"]
    assert subject["hashes"] == [
        {"alg": "SHA-256", "content": hashlib.sha256(zip_path.read_bytes()).hexdigest()}
    ], "the SBOM describes another build of this zip"
    wheels = locked_hashes()
    for component in document["components"]:
        purl_key = component["purl"].removeprefix("pkg:pypi/")
        (wheel_hash,) = (h["content"] for h in component["hashes"])
        assert wheel_hash in wheels[purl_key], component
        assert component["licenses"], f"{component['name']} has no licence in the SBOM"


def write_dist(archive: zipfile.ZipFile, folder: str, headers: str, tags: list[str]) -> None:
    archive.writestr(f"{folder}/METADATA", f"Metadata-Version: 2.4\n{headers}\n\nlong text\n")
    archive.writestr(
        f"{folder}/WHEEL", "Wheel-Version: 1.0\n" + "".join(f"Tag: {t}\n" for t in tags)
    )


LOCK = """
version = 1

[[package]]
name = "fastlib"
version = "1.0"

[[package.wheels]]
url = "https://x.invalid/fastlib-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
hash = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

[[package.wheels]]
url = "https://x.invalid/fastlib-1.0-cp312-cp312-manylinux_2_17_aarch64.whl"
hash = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

[[package.wheels]]
url = "https://x.invalid/fastlib-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
hash = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

[[package]]
name = "old-style"
version = "0.1"

[[package.wheels]]
url = "https://x.invalid/old_style-0.1-py3-none-any.whl"
hash = "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
"""


def test_the_sbom_lists_only_dist_infos_with_the_wheel_each_came_from(tmp_path: Path) -> None:
    zip_path = tmp_path / "functions-test.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("functions/handlers/x.py", "X = 1\n")
        archive.writestr("fastlib/__init__.py", "")
        write_dist(
            archive,
            "fastlib-1.0.dist-info",
            "Name: FastLib\nVersion: 1.0\nLicense-Expression: Apache-2.0 OR MIT",
            ["cp312-cp312-manylinux_2_17_x86_64", "cp312-cp312-manylinux2014_x86_64"],
        )
        write_dist(
            archive,
            "old_style-0.1.dist-info",
            "Name: old_style\nVersion: 0.1\nLicense: " + "x" * 200 + "\n"
            "Classifier: License :: OSI Approved :: BSD License",
            ["py3-none-any"],
        )
        # Not installed from the lock: listed, with no hash rather than a wrong one.
        write_dist(archive, "local_only-2.0.dist-info", "Name: local-only\nVersion: 2.0", [])
        # A dist-info nested in a package is that package's file, not a distribution of the zip.
        archive.writestr("fastlib/_vendor/inner-1.0.dist-info/METADATA", "Name: inner\n")
    (tmp_path / "uv.lock").write_text(LOCK)

    path = sbom.write_sbom(
        zip_path, tmp_path / "uv.lock", subject="functions", subject_version="9.9"
    )

    assert path == tmp_path / "functions-test.cdx.json"
    text = path.read_text()
    assert_valid_cyclonedx(text)
    components = {c["name"]: c for c in json.loads(text)["components"]}
    assert set(components) == {"FastLib", "old_style", "local-only"}
    assert components["FastLib"]["purl"] == "pkg:pypi/fastlib@1.0"
    assert components["FastLib"]["hashes"] == [{"alg": "SHA-256", "content": "a" * 64}]
    assert components["FastLib"]["licenses"] == [{"expression": "Apache-2.0 OR MIT"}]
    assert components["old_style"]["hashes"] == [{"alg": "SHA-256", "content": "d" * 64}]
    assert components["old_style"]["licenses"] == [{"license": {"name": "BSD License"}}]
    assert "hashes" not in components["local-only"]


def test_the_same_zip_gets_the_same_sbom(tmp_path: Path) -> None:
    zip_path = tmp_path / "functions-test.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        write_dist(archive, "a-1.dist-info", "Name: a\nVersion: 1", ["py3-none-any"])
    (tmp_path / "uv.lock").write_text(LOCK)

    def build() -> str:
        bom = sbom.bill_of_materials(
            zip_path,
            tmp_path / "uv.lock",
            subject="functions",
            subject_version="1",
            environ={"SOURCE_DATE_EPOCH": "315532800"},
        )
        return json.dumps(json.loads(JsonV1Dot6(bom).output_as_string()), sort_keys=True)

    first = build()
    assert first == build()
    assert json.loads(first)["metadata"]["timestamp"].startswith("1980-01-01T00:00:00")
