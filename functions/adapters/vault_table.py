"""The vault table (DynamoDB) behind the vault's ``VaultStore`` port.

Table design (single table, on-demand):

* partition key ``pk`` (S), no sort key; TTL attribute ``expires_at`` (N, epoch seconds)
* GSI ``by_tenant_customer``: partition key ``tenant_customer`` (S), projection KEYS_ONLY;
  it lists a customer's token records and index entries for erasure
* items, by ``kind``:
  - ``token``: ``pk = "T#<token>"`` for an opaque token, ``pk = "T#<tenant>#<token>"`` for a
    format-preserving one (finding 4: its 6+4 class holds about 900,000 tokens, so a global
    namespace let one tenant exhaust a class for every tenant; an opaque token's 128 random
    bits need no tenant). Format-preserving records written before were keyed
    ``T#<token>``: they are read there when the tenant's key holds nothing, a new token is
    never issued over one of the same tenant (a condition in the write's transaction), a
    single-use one is consumed there, and ``rewrap`` moves them to the tenant's key (see
    ``scan_tokens`` and ``replace_token``). tenant_id, customer_scope, tenant_customer,
    token_format, single_use (BOOL), fingerprint, card_key (optional), brand, last4, kms_key_id,
    wrapped_data_key (B), dk_issued_at (N), customer_key_id, nonce (B), ciphertext (B),
    created_at (N), expires_at (N, optional), v (N: the record version, 2 binds every field a
    reader acts on into the authenticated data; 1 is migrated by ``rewrap``). A new record is
    written, then its customer key item read again (strongly consistent): when it no longer
    holds the key the record was sealed under, the record is deleted and the write refused, so a
    container with an erased key cached cannot leave a dead record behind (format-preserving
    records: one transaction with a ConditionCheck, as they also check the old key).
  - ``fingerprint`` (deduplication index): ``pk = "F#<tenant>#<scope>#<format>#<fingerprint>"``;
    token, tenant_id, tenant_customer, expires_at (optional). A conditional put on this item
    (not a GSI, which is eventually consistent and not unique) makes deduplication race-safe.
  - ``class_count`` (the tokenize rate limit, ``functions/domain/vault/limits.py``):
    ``pk = "R#<digest>"``, the digest of tenant, card class and window (no digit of the card);
    n (N, added atomically), expires_at (N, TTL). Nothing else.
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
from functions.domain.vault.tokens import token_format_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    Item = dict[str, AttributeValueTypeDef]

GSI_NAME = "by_tenant_customer"
# Customer key items: 2 since customer keys are wrapped under their own context (wrap_context).
CUSTOMER_KEY_SCHEMA_VERSION = 2
_BATCH = 25
_SAME_KEY_AND_TENANT = "wrapped_data_key = :old AND tenant_id = :tenant"
_MAX_BATCH_RETRIES = 8


def token_pk(tenant_id: str, token: str) -> str:
    """Where a record lives: per tenant for a format-preserving token, else by token alone."""
    if token_format_of(token) is TokenFormat.FORMAT_PRESERVING:
        return f"T#{tenant_id}#{token}"
    return f"T#{token}"


def legacy_token_pk(token: str) -> str:
    """Where every record lived before format-preserving tokens were per tenant."""
    return f"T#{token}"


def class_count_pk(key: str) -> str:
    return f"R#{key}"


def _is_format_preserving(token: str) -> bool:
    return token_format_of(token) is TokenFormat.FORMAT_PRESERVING


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

    def get_token(self, tenant_id: str, token: str) -> TokenRecord | None:
        item = self._get(self._table, token_pk(tenant_id, token))
        if item is None and _is_format_preserving(token):
            item = self._get(self._table, legacy_token_pk(token))  # any tenant's: checked above
        return None if item is None or item.get("kind", {}).get("S") != "token" else _token(item)

    def put_token_if_absent(self, record: TokenRecord) -> bool:
        if _is_format_preserving(record.token):
            return self._put_format_preserving_token(record)
        if not self._put(self._table, _token_item(record), "attribute_not_exists(pk)", {}):
            return False
        # Write, then check the customer key (finding 6), rather than one transaction with a
        # ConditionCheck on the key table: a transaction bills both items twice (4 WCU); this is
        # 1 WCU and one strongly consistent read. Checking after the write leaves no gap: an
        # erasure that deleted the key before this read is seen here, and the record is taken
        # back; one that deletes it later erases a record that existed before it began, as any
        # other. A writer that dies between the two leaves a record no key can open any more,
        # which deduplication skips (``Vault._live_record``) and detokenize answers as not found.
        key = self._get(self._key_table, customer_key_pk(record.tenant_id, record.scope))
        if key is None or key.get("customer_key_id", {}).get("S") != record.customer_key_id:
            self._delete(
                self._table,
                token_pk(record.tenant_id, record.token),
                "customer_key_id = :id",
                {":id": _s(record.customer_key_id)},
                {},
            )
            raise CustomerKeyErasedError()
        return True

    def _put_format_preserving_token(self, record: TokenRecord) -> bool:
        """A format-preserving token's write must also find its token free under the old
        global key (``T#<token>``) of the same tenant, atomically: one transaction."""
        reasons = self._transact(
            [
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
                {
                    # The same tenant's record written under the old key would be shadowed by
                    # this one (its token would then name another card): that token is taken.
                    "ConditionCheck": {
                        "TableName": self._table,
                        "Key": {"pk": _s(legacy_token_pk(record.token))},
                        "ConditionExpression": "attribute_not_exists(pk) OR tenant_id <> :tenant",
                        "ExpressionAttributeValues": {":tenant": _s(record.tenant_id)},
                    }
                },
            ]
        )
        if reasons is None:
            return True
        if len(reasons) >= 2 and reasons[1] == "ConditionalCheckFailed":
            raise CustomerKeyErasedError()
        if any(reasons[i] == "ConditionalCheckFailed" for i in (0, 2) if i < len(reasons)):
            return False
        raise VaultUnavailableError()

    def replace_token(self, record: TokenRecord, expected_wrapped_data_key: bytes) -> bool:
        if self._put(
            self._table,
            _token_item(record),
            "wrapped_data_key = :old",
            {":old": _b(expected_wrapped_data_key)},
        ):
            return True
        if _is_format_preserving(record.token):
            return self._move_legacy_token(record, expected_wrapped_data_key)
        return False

    def _move_legacy_token(self, record: TokenRecord, expected_wrapped_data_key: bytes) -> bool:
        """Rewrite a format-preserving record kept under its old key (``T#<token>``) at its
        tenant's key, and delete the old item, in one transaction."""
        cancelled = self._transact(
            [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": _token_item(record),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": {"pk": _s(legacy_token_pk(record.token))},
                        "ConditionExpression": _SAME_KEY_AND_TENANT,
                        "ExpressionAttributeValues": {
                            ":old": _b(expected_wrapped_data_key),
                            ":tenant": _s(record.tenant_id),
                        },
                    }
                },
            ]
        )
        return cancelled is None

    def delete_token(self, tenant_id: str, token: str) -> bool:
        if self._delete(self._table, token_pk(tenant_id, token), "attribute_exists(pk)", {}, {}):
            return True
        if not _is_format_preserving(token):
            return False
        return self._delete(
            self._table,
            legacy_token_pk(token),
            "attribute_exists(pk) AND tenant_id = :tenant",
            {":tenant": _s(tenant_id)},
            {},
        )

    # --------------------------------------------------------- class counters

    def class_count(self, key: str) -> int:
        """The tokenize rate limit's counter (``ClassCounter``). An eventually consistent read:
        half the cost, and a count that lags by a moment lets a few more cards through at
        most, which the limit's margin covers."""
        try:
            item = self._client.get_item(
                TableName=self._table, Key={"pk": _s(class_count_pk(key))}
            ).get("Item")
        except (ClientError, BotoCoreError):
            raise VaultUnavailableError() from None
        return 0 if item is None else int(item["n"]["N"])

    def add_to_class_count(self, key: str, expires_at: int) -> int:
        try:
            item = self._client.update_item(
                TableName=self._table,
                Key={"pk": _s(class_count_pk(key))},
                UpdateExpression="ADD n :one SET kind = :kind, expires_at = :expires",
                ExpressionAttributeValues={
                    ":one": _n(1),
                    ":kind": _s("class_count"),
                    ":expires": _n(expires_at),
                },
                ReturnValues="UPDATED_NEW",
            )["Attributes"]
        except (ClientError, BotoCoreError):
            raise VaultUnavailableError() from None
        return int(item["n"]["N"])

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
        """Every token record. A format-preserving record still at its old key (``T#<token>``)
        is moved to its tenant's key on the way (as ``scan_customer_keys`` moves customer keys
        out of the vault table): ``rewrap`` migrates them without re-sealing anything, since
        the key of an item is not part of its authenticated data."""
        for item in self._scan(self._table, "token"):
            record = _token(item)
            if item["pk"]["S"] == legacy_token_pk(record.token) and _is_format_preserving(
                record.token
            ):
                self._move_legacy_token(record, record.key.wrapped_data_key)
            yield record

    def scan_customer_keys(self) -> Iterator[CustomerKeyRecord]:
        if self._key_table != self._table:
            # rewrap moves the keys still in the vault table, then re-wraps them as usual.
            for item in self._scan(self._table, "customer_key"):
                self._move_to_key_table(item)
        for item in self._scan(self._key_table, "customer_key"):
            yield _customer_key(item)

    # -------------------------------------------------------------- internals

    def _transact(self, items: list[Any]) -> list[str | None] | None:
        """Run a write transaction: None when it committed, else the cancellation reason of
        each item (``ConditionalCheckFailed``, ``None``, ...). Any other failure is
        ``VaultUnavailableError``."""
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise VaultUnavailableError() from None
            return [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
        except BotoCoreError:
            raise VaultUnavailableError() from None
        return None

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
        "pk": _s(token_pk(record.tenant_id, record.token)),
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
    token = item["pk"]["S"].rsplit("#", 1)[-1]  # T#<token> or T#<tenant>#<token>
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
