"""The CycloneDX SBOM of a built Lambda zip, written beside it (``functions-aws.cdx.json``).

The bill is read from the zip itself, not from the lock or the install directory, so it lists
exactly the third-party distributions the package carries: each ``*.dist-info`` at the zip's
root is one component, with the version and licence its metadata declares and the SHA-256 of
the wheel it was installed from (the wheel in ``uv.lock`` whose tags are the ones its ``WHEEL``
file records). The blueprint's own code (``functions/``) is the BOM's subject, hashed as the
zip that carries it.

Same zip, same bill: the serial number is derived from the zip's hash, and the timestamp is
``SOURCE_DATE_EPOCH`` when set (the reproducible-builds convention), else the time of writing.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
import uuid
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

from cyclonedx.factory.license import LicenseFactory
from cyclonedx.model import ExternalReference, ExternalReferenceType, HashType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.license import License
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL
from packaging.tags import Tag, parse_tag
from packaging.utils import canonicalize_name, parse_wheel_filename

# A `License:` field longer than this is the licence's text pasted into the metadata, not a name.
MAX_LICENSE_NAME = 100
NAMESPACE = uuid.UUID("2f6c3c1e-8f5e-4d43-9a55-6c1b7f0e9a17")


@dataclass(frozen=True)
class LockedWheel:
    url: str
    sha256: str
    tags: frozenset[Tag]


@dataclass(frozen=True)
class VendoredDistribution:
    """One ``*.dist-info`` found at the root of a zip."""

    name: str
    version: str
    metadata: Message
    tags: frozenset[Tag]

    @property
    def purl(self) -> PackageURL:
        return PackageURL(type="pypi", name=canonicalize_name(self.name), version=self.version)


def vendored_distributions(archive: zipfile.ZipFile) -> list[VendoredDistribution]:
    names = set(archive.namelist())
    found = []
    for name in sorted(names):
        path = PurePosixPath(name)
        if len(path.parts) != 2 or path.name != "METADATA":
            continue
        if not path.parent.name.endswith(".dist-info"):
            continue
        metadata = HeaderParser().parsestr(archive.read(name).decode("utf-8"))
        wheel_file = f"{path.parent}/WHEEL"
        tags: frozenset[Tag] = frozenset()
        if wheel_file in names:
            wheel = HeaderParser().parsestr(archive.read(wheel_file).decode("utf-8"))
            tags = frozenset(tag for line in wheel.get_all("Tag", []) for tag in parse_tag(line))
        found.append(
            VendoredDistribution(
                name=str(metadata["Name"]),
                version=str(metadata["Version"]),
                metadata=metadata,
                tags=tags,
            )
        )
    return found


def locked_wheels(lock_path: Path) -> dict[tuple[str, str], list[LockedWheel]]:
    """The wheels ``uv.lock`` pins, by (canonical name, version)."""
    lock = tomllib.loads(lock_path.read_text())
    wheels: dict[tuple[str, str], list[LockedWheel]] = {}
    for package in lock.get("package", []):
        key = (canonicalize_name(package["name"]), str(package.get("version", "")))
        for wheel in package.get("wheels", []):
            algorithm, _, digest = str(wheel.get("hash", "")).partition(":")
            if algorithm != "sha256":
                continue
            filename = str(wheel["url"]).rsplit("/", 1)[-1]
            _, _, _, tags = parse_wheel_filename(filename)
            wheels.setdefault(key, []).append(LockedWheel(str(wheel["url"]), digest, tags))
    return wheels


def source_wheel(
    distribution: VendoredDistribution, wheels: Mapping[tuple[str, str], list[LockedWheel]]
) -> LockedWheel | None:
    """The locked wheel this distribution was installed from, if exactly one matches its tags."""
    candidates = wheels.get((canonicalize_name(distribution.name), distribution.version), [])
    matching = [wheel for wheel in candidates if wheel.tags == distribution.tags]
    return matching[0] if len(matching) == 1 else None


def declared_licenses(metadata: Message) -> list[License]:
    """The licence as declared: the SPDX expression (PEP 639), else `License:`, else classifiers."""
    factory = LicenseFactory()
    expression = metadata.get("License-Expression")
    if expression:
        return [factory.make_from_string(str(expression).strip())]
    field = str(metadata.get("License") or "").strip()
    if field and "\n" not in field and len(field) <= MAX_LICENSE_NAME:
        return [factory.make_from_string(field)]
    classifiers = [
        str(value).split(" :: ")[-1]
        for value in metadata.get_all("Classifier", [])
        if str(value).startswith("License :: ")
    ]
    return [factory.make_with_name(name) for name in classifiers]


def component_of(distribution: VendoredDistribution, wheel: LockedWheel | None) -> Component:
    purl = distribution.purl
    hashes = [HashType.from_hashlib_alg("sha256", wheel.sha256)] if wheel else []
    references = (
        [
            ExternalReference(
                type=ExternalReferenceType.DISTRIBUTION,
                url=XsUri(wheel.url),
                hashes=hashes,
                comment="the wheel vendored into the zip",
            )
        ]
        if wheel
        else []
    )
    return Component(
        type=ComponentType.LIBRARY,
        name=distribution.name,
        version=distribution.version,
        purl=purl,
        bom_ref=purl.to_string(),
        hashes=hashes,
        licenses=declared_licenses(distribution.metadata),
        external_references=references,
    )


def creation_time(environ: Mapping[str, str]) -> datetime:
    epoch = environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(tz=UTC)


def bill_of_materials(
    zip_path: Path,
    lock_path: Path,
    *,
    subject: str,
    subject_version: str,
    properties: Iterable[tuple[str, str]] = (),
    environ: Mapping[str, str] = os.environ,
) -> Bom:
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    with zipfile.ZipFile(zip_path) as archive:
        distributions = vendored_distributions(archive)
    wheels = locked_wheels(lock_path)
    root = Component(
        type=ComponentType.APPLICATION,
        name=subject,
        version=subject_version,
        bom_ref=zip_path.name,
        hashes=[HashType.from_hashlib_alg("sha256", digest)],
        properties=[Property(name=name, value=value) for name, value in properties],
    )
    components = [component_of(d, source_wheel(d, wheels)) for d in distributions]
    bom = Bom(
        serial_number=uuid.uuid5(NAMESPACE, digest),
        metadata=BomMetaData(component=root, timestamp=creation_time(environ)),
        components=components,
    )
    # What the zip carries is flat: every distribution sits beside the code that imports it.
    bom.register_dependency(root, components)
    return bom


def sbom_path(zip_path: Path) -> Path:
    return zip_path.with_name(zip_path.name.removesuffix(".zip") + ".cdx.json")


def write_sbom(
    zip_path: Path,
    lock_path: Path,
    *,
    subject: str,
    subject_version: str,
    properties: Iterable[tuple[str, str]] = (),
) -> Path:
    bom = bill_of_materials(
        zip_path,
        lock_path,
        subject=subject,
        subject_version=subject_version,
        properties=properties,
    )
    path = sbom_path(zip_path)
    path.write_text(JsonV1Dot6(bom).output_as_string(indent=2) + "\n")
    return path
