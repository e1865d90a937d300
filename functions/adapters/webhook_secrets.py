"""Webhook signing secrets sealed with the application KMS key.

The platform must sign with the secret, so a hash (as the API keys keep) will not do: the secret
is encrypted with ``kms:Encrypt`` under the endpoint's merchant and id as encryption context, so
a ciphertext copied onto another endpoint's item does not decrypt. Decrypted secrets are kept in
the warm container for a minute (ADR 0006's reasoning for data keys): a retry storm to one
endpoint costs one ``kms:Decrypt`` a minute, not one per attempt.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

CACHE_SECONDS = 60.0
CACHE_ENTRIES = 1024


class KmsSecretSealer:
    def __init__(
        self, client: KMSClient, key_id: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._key = key_id
        self._clock = clock
        self._opened: dict[tuple[str, str, str], tuple[float, str]] = {}

    @staticmethod
    def _context(merchant_id: str, endpoint_id: str) -> dict[str, str]:
        return {
            "purpose": "webhook-signing-secret",
            "merchant_id": merchant_id,
            "endpoint_id": endpoint_id,
        }

    def seal(self, secret: str, merchant_id: str, endpoint_id: str) -> str:
        answer = self._client.encrypt(
            KeyId=self._key,
            Plaintext=secret.encode(),
            EncryptionContext=self._context(merchant_id, endpoint_id),
        )
        return base64.b64encode(answer["CiphertextBlob"]).decode()

    def open(self, ciphertext: str, merchant_id: str, endpoint_id: str) -> str:
        key = (ciphertext, merchant_id, endpoint_id)
        now = self._clock()
        cached = self._opened.get(key)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        answer = self._client.decrypt(
            KeyId=self._key,
            CiphertextBlob=base64.b64decode(ciphertext),
            EncryptionContext=self._context(merchant_id, endpoint_id),
        )
        secret = answer["Plaintext"].decode()
        if len(self._opened) >= CACHE_ENTRIES:
            self._opened.clear()
        self._opened[key] = (now, secret)
        return secret
