"""The secret scan ``make test`` runs: detect-secrets over the tracked files, against a baseline.

``python -m local.secret_scan`` scans every file git tracks (or the paths given) with the
detectors and filters the baseline (``.secrets.baseline``) names, and fails on any finding the
baseline does not list. A finding is matched by file, detector and the secret's hash, never by
line, so an edit that moves a known test fixture does not fail the scan (detect-secrets' own
``detect-secrets-hook`` rewrites the baseline and exits 3 then, which would fail CI on every
line shift, and drops the justifications).

Every baseline entry must say why it is no secret (``justification``) and be marked
``is_secret: false``; ``--update`` rescans, keeps the justification of each entry that is still
found and leaves new ones without, so the scan fails until someone writes why.

The detectors are the kinds of credential this platform could leak (AWS keys, private keys,
high-entropy strings, JWTs, URLs with credentials, and the tokens of the services its CI and
operators use); detect-secrets' detectors for vendors it never talks to are left out, to keep
the scan a few seconds on two cores. So is the keyword detector: in a tokenizing payment
platform every ``token`` field reads to it as a password (a vault token is a surrogate, not a
credential), and a hundred justified false positives would hide a real one.

The ``detect_secrets`` package is checkov's fork (bc-detect-secrets), the one checkov installs:
depending on upstream detect-secrets too put two distributions into one folder, and whichever
a fresh environment unpacked last decided what the scan found.
Nothing here prints a secret: a finding is its file, line and detector.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from detect_secrets.core import baseline as ds_baseline
from detect_secrets.core.potential_secret import PotentialSecret
from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.settings import transient_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
BASELINE = REPO_ROOT / ".secrets.baseline"

Finding = tuple[str, PotentialSecret]


def tracked_files(root: Path = REPO_ROOT) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True, text=True
    ).stdout
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


def load_baseline(path: Path = BASELINE) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


@contextmanager
def baseline_settings(document: dict[str, Any]) -> Iterator[None]:
    """The baseline's detectors and filters, for this scan only."""
    with transient_settings(
        {"plugins_used": document["plugins_used"], "filters_used": document["filters_used"]}
    ):
        yield


def scan(
    paths: Sequence[str], document: dict[str, Any], root: Path = REPO_ROOT
) -> SecretsCollection:
    with baseline_settings(document):
        found = SecretsCollection(root=str(root))
        found.scan_files(*paths)
    return found


def known(document: dict[str, Any], root: Path = REPO_ROOT) -> SecretsCollection:
    """The baseline's entries as the scan of ``root`` names its findings: checkov's fork of
    detect-secrets names a finding by its absolute path, so an entry is matched by its path
    under this checkout, whichever folder the checkout is in (CI clones it elsewhere)."""
    output = SecretsCollection(root=str(root))
    for filename, entries in document["results"].items():
        for entry in entries:
            fields = {k: v for k, v in entry.items() if k != "filename"}
            output[filename].add(
                PotentialSecret.load_secret_from_dict({**fields, "filename": str(root / filename)})
            )
    return output


def unjustified(document: dict[str, Any]) -> list[str]:
    """Baseline entries that do not say why they are no secret."""
    missing = []
    for filename, entries in document["results"].items():
        for entry in entries:
            if (
                entry.get("is_secret") is not False
                or not str(entry.get("justification", "")).strip()
            ):
                missing.append(f"{filename}:{entry.get('line_number')} {entry['type']}")
    return missing


def describe(findings: SecretsCollection) -> list[str]:
    return sorted(f"{filename}:{secret.line_number} {secret.type}" for filename, secret in findings)


def updated_baseline(document: dict[str, Any], found: SecretsCollection) -> dict[str, Any]:
    """The baseline for what was found, each old entry's justification carried over."""
    reasons = {
        (filename, entry["type"], entry["hashed_secret"]): entry.get("justification")
        for filename, entries in document["results"].items()
        for entry in entries
    }
    with baseline_settings(document):
        fresh = ds_baseline.format_for_output(found)
    for filename, entries in fresh["results"].items():
        for entry in entries:
            # The key names the file; an absolute path would tie the baseline to one checkout.
            entry.pop("filename", None)
            reason = reasons.get((filename, entry["type"], entry["hashed_secret"]))
            if reason:
                entry["is_secret"] = False
                entry["justification"] = reason
    fresh["plugins_used"] = document["plugins_used"]
    fresh["filters_used"] = document["filters_used"]
    return fresh


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="files to scan (default: every tracked file)")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument(
        "--update",
        action="store_true",
        help="rewrite the baseline from every tracked file (and the paths given, not yet added)",
    )
    args = parser.parse_args(argv)
    document = load_baseline(args.baseline)
    # A baseline written from some files only would forget every other file's fixtures.
    paths = [*tracked_files(), *args.paths] if args.update else args.paths or tracked_files()
    found = scan(paths, document)
    if args.update:
        fresh = updated_baseline(document, found)
        args.baseline.write_text(json.dumps(fresh, indent=2) + "\n")
        document = fresh
    new = found - known(document)
    missing = unjustified(document)
    for line in describe(new):
        print(f"secret scan: not in {args.baseline.name}: {line}")
    for line in missing:
        print(f"secret scan: {args.baseline.name} does not say why this is no secret: {line}")
    if new or missing:
        print(
            "A real secret: remove it from the change and rotate it (it may already be pushed). "
            "A test fixture: `python -m local.secret_scan --update`, then give the new entry "
            "`is_secret: false` and a `justification`."
        )
        return 1
    print(f"secret scan: {len(paths)} files, no secret outside {args.baseline.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
