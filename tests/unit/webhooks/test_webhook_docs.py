"""docs/webhooks.md's sample verifier is code that works: run as printed, it accepts what the
platform signs and refuses a wrong secret, an altered body and a replay outside its window."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from functions.domain.webhook_signatures import signature_header

DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"
SECRET = "whsec_doc_example_secret"


def documented_verifier() -> dict[str, Any]:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    [code] = [b for b in blocks if "def verify" in b]
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102  # our own document
    return namespace


def test_the_documented_verifier_accepts_what_the_platform_signs() -> None:
    verify = documented_verifier()["verify"]
    now = int(time.time())
    body = b'{"id":"evt_1","type":"payment.captured"}'
    assert verify(body, signature_header([SECRET], now, body), [SECRET]) == now
    rotating = signature_header(["whsec_new", SECRET], now, body)
    assert verify(body, rotating, [SECRET]) == now


@pytest.mark.parametrize("case", ["wrong secret", "altered body", "replay"])
def test_the_documented_verifier_refuses(case: str) -> None:
    namespace = documented_verifier()
    now = int(time.time())
    body = b'{"id":"evt_1"}'
    signed_at = now - 301 if case == "replay" else now
    header = signature_header([SECRET], signed_at, body)
    secrets = ["whsec_other"] if case == "wrong secret" else [SECRET]
    sent = body + b" " if case == "altered body" else body
    with pytest.raises(namespace["SignatureError"]):
        namespace["verify"](sent, header, secrets)
