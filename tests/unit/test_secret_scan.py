from __future__ import annotations

import json
import secrets
import string
from pathlib import Path
from typing import Any

import pytest

from local import secret_scan

SECRET_KEY_ALPHABET = string.ascii_letters + string.digits + "+/"


def fresh_aws_credentials() -> tuple[str, str]:
    """An access key id and secret key shaped as AWS issues them, made now (never committed)."""
    key_id = "AKIA" + "".join(secrets.choice(string.ascii_uppercase + "234567") for _ in range(16))
    secret = "".join(secrets.choice(SECRET_KEY_ALPHABET) for _ in range(40))
    return key_id, secret


def plant(path: Path, key_id: str, secret: str, *, above: int = 0) -> Path:
    path.write_text(
        "import boto3\n" * above
        + f'client = boto3.client("s3", aws_access_key_id="{key_id}",\n'
        + f'    aws_secret_access_key="{secret}")\n'
    )
    return path


def test_a_planted_aws_key_fails_the_scan_without_printing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_id, secret = fresh_aws_credentials()
    planted = plant(tmp_path / "deploy.py", key_id, secret)

    assert secret_scan.main([str(planted)]) == 1

    out = capsys.readouterr().out
    assert "deploy.py:1 AWS Access Key" in out
    assert "deploy.py:2" in out
    assert secret not in out and key_id not in out


def test_the_repositorys_own_files_pass_with_the_committed_baseline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The files with listed fixtures, and the baseline itself (its hashes look like secrets to
    # the entropy detectors); the whole tree is `make test`'s secret-scan step.
    listed = sorted(secret_scan.load_baseline()["results"])
    tracked = set(secret_scan.tracked_files())
    paths = [".secrets.baseline", *(name for name in listed if name in tracked)]
    assert secret_scan.main(paths) == 0, capsys.readouterr()


def baseline_for(entries: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    document = secret_scan.load_baseline()
    return {**document, "results": entries}


def justified_baseline(root: Path, name: str, key_id: str, secret: str) -> dict[str, Any]:
    """A baseline that lists the fake key planted in root/name, with a reason."""
    plant(root / name, key_id, secret)
    empty = baseline_for({})
    listed = secret_scan.updated_baseline(empty, secret_scan.scan([name], empty, root=root))
    for entry in listed["results"][name]:
        entry.update(is_secret=False, justification="a fake key for this test")
    return baseline_for(listed["results"])


def test_a_listed_fixture_stays_known_when_edits_move_it(tmp_path: Path) -> None:
    key_id, secret = fresh_aws_credentials()
    document = justified_baseline(tmp_path, "fixture.py", key_id, secret)

    plant(tmp_path / "fixture.py", key_id, secret, above=30)
    moved = secret_scan.scan(["fixture.py"], document, root=tmp_path)

    assert {s.line_number for _, s in moved} == {31, 32}
    assert not moved - secret_scan.known(document, root=tmp_path)
    assert secret_scan.unjustified(document) == []
    # Another secret in the same file is new all the same.
    plant(tmp_path / "fixture.py", *fresh_aws_credentials())
    other = secret_scan.scan(["fixture.py"], document, root=tmp_path)
    assert other - secret_scan.known(document, root=tmp_path)


def test_an_update_keeps_reasons_and_leaves_new_entries_unjustified(tmp_path: Path) -> None:
    document = justified_baseline(tmp_path, "old.py", *fresh_aws_credentials())
    plant(tmp_path / "new.py", *fresh_aws_credentials())

    found = secret_scan.scan(["old.py", "new.py"], document, root=tmp_path)
    updated = secret_scan.updated_baseline(document, found)

    assert {e["justification"] for e in updated["results"]["old.py"]} == {
        "a fake key for this test"
    }
    assert all("justification" not in e for e in updated["results"]["new.py"])
    assert sorted(secret_scan.unjustified(updated)) == sorted(
        f"new.py:{e['line_number']} {e['type']}" for e in updated["results"]["new.py"]
    )
    assert updated["plugins_used"] == document["plugins_used"]


def test_the_committed_baseline_justifies_every_entry() -> None:
    document = secret_scan.load_baseline()
    assert document["results"], "the baseline lists the known fixtures"
    assert secret_scan.unjustified(document) == []
    stored = json.loads(secret_scan.BASELINE.read_text())
    names = {plugin["name"] for plugin in stored["plugins_used"]}
    # No KeywordDetector: every `token` field of a tokenizing payment platform reads as a password
    # to it; the credential-shaped detectors stay.
    assert {"AWSKeyDetector", "PrivateKeyDetector", "Base64HighEntropyString"} <= names
