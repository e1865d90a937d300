"""The vault table (DynamoDB) behind the vault's ``VaultStore`` port.

Table design (single table, on-demand):

* partition key ``pk`` (S), no sort key; TTL attribute ``expires_at`` (N, epoch seconds)
* GSI ``by_tenant_customer``: partition key ``tenant_customer`` (S), projection KEYS_ONLY;
  it lists a customer's token records and index entries for erasure
* items, by ``kind``:
  - ``token``: ``pk = "T#<token>"``; tenant_id, customer_scope, tenant_customer, token_format,
    single_use (BOOL), fingerprint, card_key (optional), brand, last4, kms_key_id,
    wrapped_data_key (B), dk_issued_at (N), customer_key_id, nonce (B), ciphertext (B),
    created_at (N), expires_at (N, optional), v (N: the record version, 2 binds every field a
    reader acts on into the authenticated data; 1 is migrated by ``rewrap``). A new record is
    written in one transaction with a check that its customer key item still holds the key it
    was sealed under, so a container with an erased key cached cannot write a dead record.
  - ``fingerprint`` (deduplication index): ``pk = "F#<tenant>#<scope>#<format>#<fingerprint>"``;
    token, tenant_id, tenant_customer, expires_at (optional). A conditional put on this item
    (not a GSI, which is eventually consistent and not unique) makes deduplication race-safe.
  - ``customer_key``: ``pk = "C#<tenant>#<scope>"``; tenant_id, customer_scope,
    customer_key_id, kms_key_id, wrapped_data_key (B: the wrapping key's CiphertextBlob),
    wrap_context (S: its KMS context ``vault`` value, ``customer-key``; absent on items of
    schema 1, which were wrapped under a ``data-key`` and are moved by ``rewrap``),
    dk_issued_at (N), nonce (B), wrapped_key (B), created_at (N), v (N, 2). They live in a
    separate table (``key_table_name``, same ``pk`` key schema, no GSI, no PITR), so that
    restoring the vault table restores no customer key: an erasure is final (finding 2).
    Customer keys written to the vault table before the split are read from there and moved to
    the key table by the first reader allowed to write it (tokenize, admin).

Every create is ``attribute_not_exists(pk)``; every replace is conditional on the old
wrapped data key. Reads of single items are strongly consistent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.domain.cards import CardBrand
from functions.domain.vault.errors import CustomerKeyErasedError, VaultUnavailableError
from functions.domain.vault.model import (
    CustomerKeyRecord,
    FingerprintEntry,
    KeyPurpose,
    TokenFormat,
    TokenRecord,
    WrappedKeyRef,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    Item = dict[str, AttributeValueTypeDef]

GSI_NAME = "by_tenant_customer"
# Customer key items: 2 since customer keys are wrapped under their own context (wrap_context).
CUSTOMER_KEY_SCHEMA_VERSION = 2
_BATCH = 25
_MAX_BATCH_RETRIES = 8


def token_pk(token: str) -> str:
    return f"T#{token}"


def fingerprint_pk(tenant_id: str, scope: str, token_format: str, fingerprint: str) -> str:
    return f"F#{tenant_id}#{scope}#{token_format}#{fingerprint}"


def customer_key_pk(tenant_id: str, scope: str) -> str:
    return f"C#{tenant_id}#{scope}"


def _s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _n(value: int) -> AttributeValueTypeDef:
    return {"N": str(value)}


def _b(value: bytes) -> AttributeValueTypeDef:
    return {"B": value}


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoVaultStore:
    def __init__(
        self, client: DynamoDBClient, table_name: str, *, key_table_name: str | None = None
    ) -> None:
        self._client = client
        self._table = table_name
        self._key_table = key_table_name or table_name

    def __repr__(self) -> str:
        return f"DynamoVaultStore(table={self._table!r}, key_table={self._key_table!r})"

    # ---------------------------------------------------------------- tokens

    def get_token(self, token: str) -> TokenRecord | None:
        item = self._get(self._table, token_pk(token))
        return None if item is None or item.get("kind", {}).get("S") != "token" else _token(item)

    def put_token_if_absent(self, record: TokenRecord) -> bool:
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": _token_item(record),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "ConditionCheck": {
                            "TableName": self._key_table,
                            "Key": {"pk": _s(customer_key_pk(record.tenant_id, record.scope))},
                            "ConditionExpression": "customer_key_id = :id",
                            "ExpressionAttributeValues": {":id": _s(record.customer_key_id)},
                        }
                    },
                ]
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise VaultUnavailableError() from None
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if len(reasons) == 2 and reasons[1] == "ConditionalCheckFailed":
                raise CustomerKeyErasedError() from None
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            raise VaultUnavailableError() from None
        except BotoCoreError:
            raise VaultUnavailableError() from None
        return True

    def replace_token(self, record: TokenRecord, expected_wrapped_data_key: bytes) -> bool:
        return self._put(
            self._table,
            _token_item(record),
            "wrapped_data_key = :old",
            {":old": _b(expected_wrapped_data_key)},
        )

    def delete_token(self, token: str) -> bool:
        return self._delete(self._table, token_pk(token), "attribute_exists(pk)", {}, {})

    # ----------------------------------------------------------- fingerprints

    def find_by_fingerprint(
        self, tenant_id: str, scope: str, token_format: str, fingerprint: str
    ) -> str | None:
        item = self._get(self._table, fingerprint_pk(tenant_id, scope, token_format, fingerprint))
        return None if item is None else item["token"]["S"]

    def claim_fingerprint(self, entry: FingerprintEntry) -> str | None:
        item: Item = {
            "pk": _s(
                fingerprint_pk(entry.tenant_id, entry.scope, entry.token_format, entry.fingerprint)
            ),
            "kind": _s("fingerprint"),
            "token": _s(entry.token),
            "tenant_id": _s(entry.tenant_id),
            "tenant_customer": _s(f"{entry.tenant_id}#{entry.scope}"),
        }
        if entry.expires_at is not None:
            item["expires_at"] = _n(entry.expires_at)
        if self._put(self._table, item, "attribute_not_exists(pk)", {}):
            return None
        existing = self.find_by_fingerprint(
            entry.tenant_id, entry.scope, entry.token_format, entry.fingerprint
        )
        return existing if existing is not None else ""

    def release_fingerprint(self, entry: FingerprintEntry) -> None:
        self._delete(
            self._table,
            fingerprint_pk(entry.tenant_id, entry.scope, entry.token_format, entry.fingerprint),
            "#token = :token",
            {":token": _s(entry.token)},
            {"#token": "token"},
        )

    # ---------------------------------------------------------- customer keys

    def get_customer_key(self, tenant_id: str, scope: str) -> CustomerKeyRecord | None:
        pk = customer_key_pk(tenant_id, scope)
        item = self._get(self._key_table, pk)
        if item is None and self._key_table != self._table:
            item = self._get(self._table, pk)  # written before the key table existed
            if item is not None:
                self._move_to_key_table(item)
        return None if item is None else _customer_key(item)

    def _move_to_key_table(self, item: Mapping[str, Any]) -> None:
        """Move a customer key from the vault table (which has PITR) to the key table: create
        it there unless present, then delete the old item if it still holds the same key. A
        role that may not write the key table (detokenize) leaves the move to the next writer.
        """
        try:
            self._client.put_item(
                TableName=self._key_table,
                Item=dict(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                return
        except BotoCoreError:
            return
        self._delete(
            self._table,
            item["pk"]["S"],
            "customer_key_id = :id",
            {":id": item["customer_key_id"]},
            {},
        )

    def put_customer_key_if_absent(self, record: CustomerKeyRecord) -> bool:
        return self._put(
            self._key_table, _customer_key_item(record), "attribute_not_exists(pk)", {}
        )

    def replace_customer_key(
        self, record: CustomerKeyRecord, expected_wrapped_data_key: bytes
    ) -> bool:
        return self._put(
            self._key_table,
            _customer_key_item(record),
            "wrapped_data_key = :old AND customer_key_id = :id",
            {":old": _b(expected_wrapped_data_key), ":id": _s(record.key_id)},
        )

    def delete_customer_key(self, tenant_id: str, scope: str) -> bool:
        pk = customer_key_pk(tenant_id, scope)
        deleted = self._delete(self._key_table, pk, "attribute_exists(pk)", {}, {})
        if self._key_table != self._table:
            # A key not yet moved out of the vault table is shredded there too.
            deleted = self._delete(self._table, pk, "attribute_exists(pk)", {}, {}) or deleted
        return deleted

    def purge_customer(self, tenant_id: str, scope: str) -> int:
        keys: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": GSI_NAME,
            "KeyConditionExpression": "tenant_customer = :tc",
            "ExpressionAttributeValues": {":tc": _s(f"{tenant_id}#{scope}")},
        }
        try:
            while True:
                page = self._client.query(**kwargs)
                keys.extend(item["pk"]["S"] for item in page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            for start in range(0, len(keys), _BATCH):
                self._batch_delete(keys[start : start + _BATCH])
        except (ClientError, BotoCoreError):
            raise VaultUnavailableError() from None
        return len(keys)

    # ------------------------------------------------------------------ scans

    def scan_tokens(self) -> Iterator[TokenRecord]:
        for item in self._scan(self._table, "token"):
            yield _token(item)

    def scan_customer_keys(self) -> Iterator[CustomerKeyRecord]:
        if self._key_table != self._table:
            # rewrap moves the keys still in the vault table, then re-wraps them as usual.
            for item in self._scan(self._table, "customer_key"):
                self._move_to_key_table(item)
        for item in self._scan(self._key_table, "customer_key"):
            yield _customer_key(item)

    # -------------------------------------------------------------- internals

    def _get(self, table: str, pk: str) -> Mapping[str, Any] | None:
        try:
            response = self._client.get_item(
                TableName=table, Key={"pk": _s(pk)}, ConsistentRead=True
            )
        except (ClientError, BotoCoreError):
            raise VaultUnavailableError() from None
        return response.get("Item")

    def _put(
        self, table: str, item: Item, condition: str, values: dict[str, AttributeValueTypeDef]
    ) -> bool:
        kwargs: dict[str, Any] = {
            "TableName": table,
            "Item": item,
            "ConditionExpression": condition,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            self._client.put_item(**kwargs)
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise VaultUnavailableError() from None
        except BotoCoreError:
            raise VaultUnavailableError() from None
        return True

    def _delete(
        self,
        table: str,
        pk: str,
        condition: str,
        values: dict[str, AttributeValueTypeDef],
        names: dict[str, str],
    ) -> bool:
        kwargs: dict[str, Any] = {
            "TableName": table,
            "Key": {"pk": _s(pk)},
            "ConditionExpression": condition,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        if names:
            kwargs["ExpressionAttributeNames"] = names
        try:
            self._client.delete_item(**kwargs)
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise VaultUnavailableError() from None
        except BotoCoreError:
            raise VaultUnavailableError() from None
        return True

    def _batch_delete(self, pks: list[str]) -> None:
        requests: list[Any] = [{"DeleteRequest": {"Key": {"pk": _s(pk)}}} for pk in pks]
        for _ in range(_MAX_BATCH_RETRIES):
            response = self._client.batch_write_item(RequestItems={self._table: requests})
            requests = list(response.get("UnprocessedItems", {}).get(self._table, []))
            if not requests:
                return
        raise VaultUnavailableError()

    def _scan(self, table: str, kind: str) -> Iterator[Mapping[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": table,
            "FilterExpression": "kind = :kind",
            "ExpressionAttributeValues": {":kind": _s(kind)},
        }
        while True:
            try:
                page = self._client.scan(**kwargs)
            except (ClientError, BotoCoreError):
                raise VaultUnavailableError() from None
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _token_item(record: TokenRecord) -> Item:
    item: Item = {
        "pk": _s(token_pk(record.token)),
        "kind": _s("token"),
        "v": _n(record.version),
        "tenant_id": _s(record.tenant_id),
        "customer_scope": _s(record.scope),
        "tenant_customer": _s(f"{record.tenant_id}#{record.scope}"),
        "token_format": _s(record.token_format.value),
        "single_use": {"BOOL": record.single_use},
        "fingerprint": _s(record.fingerprint),
        "brand": _s(record.brand.value),
        "last4": _s(record.last4),
        "kms_key_id": _s(record.key.kms_key_id),
        "wrapped_data_key": _b(record.key.wrapped_data_key),
        "dk_issued_at": _n(record.key.issued_at),
        "customer_key_id": _s(record.customer_key_id),
        "nonce": _b(record.nonce),
        "ciphertext": _b(record.ciphertext),
        "created_at": _n(record.created_at),
    }
    if record.expires_at is not None:
        item["expires_at"] = _n(record.expires_at)
    if record.card_key is not None:
        item["card_key"] = _s(record.card_key)
    return item


def _token(item: Mapping[str, Any]) -> TokenRecord:
    token = item["pk"]["S"].removeprefix("T#")
    return TokenRecord(
        token=token,
        tenant_id=item["tenant_id"]["S"],
        scope=item["customer_scope"]["S"],
        token_format=TokenFormat(item["token_format"]["S"]),
        single_use=bool(item["single_use"]["BOOL"]),
        fingerprint=item["fingerprint"]["S"],
        brand=CardBrand(item["brand"]["S"]),
        last4=item["last4"]["S"],
        key=WrappedKeyRef(
            kms_key_id=item["kms_key_id"]["S"],
            wrapped_data_key=bytes(item["wrapped_data_key"]["B"]),
            issued_at=int(item["dk_issued_at"]["N"]),
        ),
        customer_key_id=item["customer_key_id"]["S"],
        nonce=bytes(item["nonce"]["B"]),
        ciphertext=bytes(item["ciphertext"]["B"]),
        created_at=int(item["created_at"]["N"]),
        expires_at=int(item["expires_at"]["N"]) if "expires_at" in item else None,
        card_key=item["card_key"]["S"] if "card_key" in item else None,
        version=int(item["v"]["N"]) if "v" in item else 1,
    )


def _customer_key_item(record: CustomerKeyRecord) -> Item:
    return {
        "pk": _s(customer_key_pk(record.tenant_id, record.scope)),
        "kind": _s("customer_key"),
        "v": _n(CUSTOMER_KEY_SCHEMA_VERSION),
        "tenant_id": _s(record.tenant_id),
        "customer_scope": _s(record.scope),
        "customer_key_id": _s(record.key_id),
        "kms_key_id": _s(record.key.kms_key_id),
        "wrapped_data_key": _b(record.key.wrapped_data_key),
        "wrap_context": _s(record.wrap_context.value),
        "dk_issued_at": _n(record.key.issued_at),
        "nonce": _b(record.nonce),
        "wrapped_key": _b(record.wrapped_key),
        "created_at": _n(record.created_at),
    }


def _customer_key(item: Mapping[str, Any]) -> CustomerKeyRecord:
    return CustomerKeyRecord(
        tenant_id=item["tenant_id"]["S"],
        scope=item["customer_scope"]["S"],
        key_id=item["customer_key_id"]["S"],
        key=WrappedKeyRef(
            kms_key_id=item["kms_key_id"]["S"],
            wrapped_data_key=bytes(item["wrapped_data_key"]["B"]),
            issued_at=int(item["dk_issued_at"]["N"]),
        ),
        nonce=bytes(item["nonce"]["B"]),
        wrapped_key=bytes(item["wrapped_key"]["B"]),
        created_at=int(item["created_at"]["N"]),
        # Schema 1 items carry no wrap_context: they were wrapped under a record data key.
        wrap_context=KeyPurpose(item["wrap_context"]["S"])
        if "wrap_context" in item
        else KeyPurpose.RECORD,
    )
