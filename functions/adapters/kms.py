"""KMS behind the vault's ``KeyService`` port.

The client is passed in (built once per container by the handler's wiring). Errors are mapped
to vault errors: a ciphertext or context that KMS refuses is a tampered record, anything else
(throttling, access, network) is ``VaultUnavailableError``. No key material is logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from functions.domain.vault.errors import VaultRecordTamperedError, VaultUnavailableError
from functions.domain.vault.model import GeneratedDataKey, MacKey

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

# Error codes meaning "this ciphertext or its context is not what was wrapped".
_TAMPER_CODES = frozenset(
    {"InvalidCiphertextException", "IncorrectKeyException", "InvalidKeyUsageException"}
)


class KmsKeyService:
    """``key_id``: the symmetric (SYMMETRIC_DEFAULT) key that wraps data keys, an ARN or alias.
    ``mac_key_id``: the HMAC_256 key for per-tenant PAN fingerprints (one GenerateMac per
    tokenization, over the card). ``card_key_mac_key_id``: the HMAC_256 key of the
    platform-wide card key; without one, the fingerprint key serves both (the messages carry
    different labels, so the two MACs of a card are unrelated).
    ``decrypt_key_ids``: if given, the only KMS keys (ARNs) a stored record may name; a record
    naming another key is refused as tampered before KMS is called.
    """

    def __init__(
        self,
        client: KMSClient,
        key_id: str,
        mac_key_id: str,
        *,
        card_key_mac_key_id: str | None = None,
        decrypt_key_ids: frozenset[str] | None = None,
    ) -> None:
        self._client = client
        self._key_id = key_id
        self._mac_key_ids = {
            MacKey.FINGERPRINT: mac_key_id,
            MacKey.CARD_KEY: card_key_mac_key_id or mac_key_id,
        }
        self._decrypt_key_ids = decrypt_key_ids

    def __repr__(self) -> str:
        return f"KmsKeyService(key_id={self._key_id!r}, mac_key_ids={self._mac_key_ids!r})"

    def generate_data_key(self, context: Mapping[str, str]) -> GeneratedDataKey:
        try:
            response = self._client.generate_data_key(
                KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=dict(context)
            )
        except (ClientError, BotoCoreError):
            raise VaultUnavailableError() from None
        return GeneratedDataKey(
            plaintext=response["Plaintext"],
            wrapped=response["CiphertextBlob"],
            key_id=response["KeyId"],
        )

    def decrypt_data_key(
        self, kms_key_id: str, wrapped: bytes, context: Mapping[str, str]
    ) -> bytes:
        if self._decrypt_key_ids is not None and kms_key_id not in self._decrypt_key_ids:
            raise VaultRecordTamperedError()
        try:
            response = self._client.decrypt(
                CiphertextBlob=wrapped, KeyId=kms_key_id, EncryptionContext=dict(context)
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _TAMPER_CODES:
                raise VaultRecordTamperedError() from None
            raise VaultUnavailableError() from None
        except BotoCoreError:
            raise VaultUnavailableError() from None
        return response["Plaintext"]

    def generate_mac(self, key: MacKey, message: bytes) -> bytes:
        try:
            response = self._client.generate_mac(
                KeyId=self._mac_key_ids[key], MacAlgorithm="HMAC_SHA_256", Message=message
            )
        except (ClientError, BotoCoreError):
            raise VaultUnavailableError() from None
        return response["Mac"]
