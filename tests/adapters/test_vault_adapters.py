"""The boto3 vault adapters end to end through the service, on moto (in process)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters.kms import KmsKeyService
from functions.adapters.vault_table import (
    GSI_NAME,
    DynamoVaultStore,
    class_count_pk,
    customer_key_pk,
    legacy_token_pk,
    token_pk,
)
from functions.domain.vault import (
    Caller,
    ClassLimit,
    CustomerKeyErasedError,
    KeyPurpose,
    TokenFormat,
    TokenizeRateLimitedError,
    TokenNotFoundError,
    TokenSpaceExhaustedError,
    TokenTenantMismatchError,
    Vault,
    VaultRecordTamperedError,
    VaultSettings,
)
from functions.domain.vault.keys import (
    customer_key_aad,
    customer_key_context,
    data_key_context,
    open_sealed,
    seal,
)
from functions.domain.vault.ports import RandomSource
from tests.unit.vault.fakes import ListAuditSink
from tests.unit.vault.helpers import RepeatingMiddles

REGION = "eu-west-1"
TABLE = "payments-vault"
DETOKENIZER = Caller("arn:aws:iam::123456789012:role/detokenize", frozenset({"vault:detokenize"}))
VISA = "4242424242424242"
AMEX = "378282246310005"
MASTERCARD = "5555555555554444"


def _create_table(ddb: Any) -> None:
    """The table exactly as the Terraform module must create it."""
    ddb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "tenant_customer", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": GSI_NAME,
                "KeySchema": [{"AttributeName": "tenant_customer", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    ddb.update_time_to_live(
        TableName=TABLE,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )


@dataclasses.dataclass
class Aws:
    kms: Any
    ddb: Any
    key_id: str
    mac_key_id: str
    audit: ListAuditSink

    def vault(
        self,
        key_id: str | None = None,
        *,
        settings: VaultSettings | None = None,
        random: RandomSource | None = None,
        class_limited: bool = False,
    ) -> Vault:
        keys = KmsKeyService(self.kms, key_id or self.key_id, self.mac_key_id)
        store = DynamoVaultStore(self.ddb, TABLE)
        return Vault(
            keys,
            store,
            self.audit,
            settings=settings,
            random=random,
            class_counter=store if class_limited else None,
        )


def _record_item_at(aws: Aws, pk: str) -> dict[str, Any]:
    item: dict[str, Any] = aws.ddb.get_item(TableName=TABLE, Key={"pk": {"S": pk}})["Item"]
    return item


def _record_item(aws: Aws, tenant: str, token: str) -> dict[str, Any]:
    item: dict[str, Any] = aws.ddb.get_item(
        TableName=TABLE, Key={"pk": {"S": token_pk(tenant, token)}}
    )["Item"]
    return item


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        kms = boto3.client("kms", region_name=REGION)
        ddb = boto3.client("dynamodb", region_name=REGION)
        key_id = kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")[
            "KeyMetadata"
        ]["Arn"]
        mac_key_id = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")[
            "KeyMetadata"
        ]["Arn"]
        _create_table(ddb)
        yield Aws(kms, ddb, key_id, mac_key_id, ListAuditSink())


def test_round_trip_dedup_and_fingerprints(aws: Aws) -> None:
    vault = aws.vault()
    first = vault.tokenize("ten_a", VISA, customer_id="cus_1")
    again = aws.vault().tokenize("ten_a", VISA, customer_id="cus_1")  # another container
    assert first.token == again.token
    assert not again.created
    fpe = vault.tokenize("ten_a", MASTERCARD, token_format=TokenFormat.FORMAT_PRESERVING)
    assert len(fpe.token) == 16
    assert fpe.token[:6] == MASTERCARD[:6]
    assert fpe.token[-4:] == MASTERCARD[-4:]
    other = vault.tokenize("ten_b", VISA, customer_id="cus_1")
    assert other.fingerprint != first.fingerprint
    for tenant, token, pan in (("ten_a", first.token, VISA), ("ten_a", fpe.token, MASTERCARD)):
        got = aws.vault().detokenize(tenant, token, caller=DETOKENIZER, purpose="authorization")
        assert got.number == pan
    item = aws.ddb.get_item(TableName=TABLE, Key={"pk": {"S": token_pk("ten_a", first.token)}})[
        "Item"
    ]
    assert VISA not in str(item)
    assert VISA[-4:] == item["last4"]["S"]
    assert {"wrapped_data_key", "nonce", "ciphertext", "kms_key_id"} <= item.keys()
    with pytest.raises(TokenTenantMismatchError):
        vault.detokenize("ten_b", first.token, caller=DETOKENIZER, purpose="authorization")


def test_kms_enforces_the_tenant_context(aws: Aws) -> None:
    token = aws.vault().tokenize("ten_a", VISA).token
    item = aws.ddb.get_item(TableName=TABLE, Key={"pk": {"S": token_pk("ten_a", token)}})["Item"]
    item["tenant_id"] = {"S": "ten_b"}  # a record relabelled to another tenant
    aws.ddb.put_item(TableName=TABLE, Item=item)
    with pytest.raises(VaultRecordTamperedError):
        aws.vault().detokenize("ten_b", token, caller=DETOKENIZER, purpose="authorization")


def test_single_use_and_unknown(aws: Aws) -> None:
    vault = aws.vault()
    token = vault.tokenize("ten_a", VISA, single_use=True).token
    assert vault.detokenize("ten_a", token, caller=DETOKENIZER, purpose="x").number == VISA
    with pytest.raises(TokenNotFoundError):
        vault.detokenize("ten_a", token, caller=DETOKENIZER, purpose="x")


def test_erasure_on_dynamodb(aws: Aws) -> None:
    vault = aws.vault()
    gone = vault.tokenize("ten_a", VISA, customer_id="cus_gone").token
    kept = vault.tokenize("ten_a", VISA, customer_id="cus_kept").token
    backup = aws.ddb.get_item(TableName=TABLE, Key={"pk": {"S": token_pk("ten_a", gone)}})["Item"]
    report = vault.erase_customer("ten_a", "cus_gone", caller=DETOKENIZER)
    assert report.customer_key_deleted
    assert report.items_deleted == 2
    aws.ddb.put_item(TableName=TABLE, Item=backup)  # restore the record from a backup
    with pytest.raises(CustomerKeyErasedError):
        aws.vault().detokenize("ten_a", gone, caller=DETOKENIZER, purpose="x")
    assert aws.vault().detokenize("ten_a", kept, caller=DETOKENIZER, purpose="x").number == VISA


def test_rewrap_to_a_new_kms_key(aws: Aws) -> None:
    vault = aws.vault()
    tokens = {vault.tokenize("ten_a", VISA, customer_id=f"cus_{i}").token for i in range(3)}
    new_key = aws.kms.create_key(KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]["Arn"]
    rotated = aws.vault(new_key)
    report = rotated.rewrap(caller=DETOKENIZER)
    assert (report.tokens_rewrapped, report.customer_keys_rewrapped, report.failed) == (3, 3, 0)
    for token in tokens:
        item = aws.ddb.get_item(TableName=TABLE, Key={"pk": {"S": token_pk("ten_a", token)}})[
            "Item"
        ]
        assert item["kms_key_id"]["S"] == new_key
        # the old container (cached old keys) and a new one both read the moved record
        for reader in (vault, aws.vault(new_key)):
            assert reader.detokenize("ten_a", token, caller=DETOKENIZER, purpose="x").number == VISA
    # the old key can be disabled now: nothing needs it any more
    aws.kms.disable_key(KeyId=aws.key_id.split("/")[-1])  # moto wants the id
    for token in tokens:
        assert (
            aws.vault(new_key).detokenize("ten_a", token, caller=DETOKENIZER, purpose="x").number
            == VISA
        )


def test_record_and_customer_keys_are_wrapped_under_separate_contexts(aws: Aws) -> None:
    vault = aws.vault()
    token = vault.tokenize("ten_a", VISA, customer_id="cus_1").token
    record = aws.ddb.get_item(TableName=TABLE, Key={"pk": {"S": token_pk("ten_a", token)}})["Item"]
    ck_item = aws.ddb.get_item(
        TableName=TABLE, Key={"pk": {"S": customer_key_pk("ten_a", "cus_1")}}
    )["Item"]
    assert (ck_item["wrap_context"]["S"], ck_item["v"]["N"]) == ("customer-key", "2")
    assert ck_item["wrapped_data_key"]["B"] != record["wrapped_data_key"]["B"]
    keys = KmsKeyService(aws.kms, aws.key_id, aws.mac_key_id)
    record_dk = bytes(record["wrapped_data_key"]["B"])
    wrapping_key = bytes(ck_item["wrapped_data_key"]["B"])
    # KMS binds the context: neither wrapped key opens under the other's context
    with pytest.raises(VaultRecordTamperedError):
        keys.decrypt_data_key(aws.key_id, record_dk, customer_key_context("ten_a"))
    with pytest.raises(VaultRecordTamperedError):
        keys.decrypt_data_key(aws.key_id, wrapping_key, data_key_context("ten_a"))
    assert len(keys.decrypt_data_key(aws.key_id, record_dk, data_key_context("ten_a"))) == 32
    assert len(keys.decrypt_data_key(aws.key_id, wrapping_key, customer_key_context("ten_a"))) == 32
    # the store reads the context back; a schema-1 item (no wrap_context) was a data-key wrap
    store = DynamoVaultStore(aws.ddb, TABLE)
    stored = store.get_customer_key("ten_a", "cus_1")
    assert stored is not None and stored.wrap_context is KeyPurpose.CUSTOMER_KEY
    # a label edited to the other context is refused by KMS, not trusted
    del ck_item["wrap_context"]
    aws.ddb.put_item(TableName=TABLE, Item=ck_item)
    legacy = store.get_customer_key("ten_a", "cus_1")
    assert legacy is not None and legacy.wrap_context is KeyPurpose.RECORD
    with pytest.raises(VaultRecordTamperedError):
        aws.vault().detokenize("ten_a", token, caller=DETOKENIZER, purpose="x")


def test_schema_1_customer_keys_are_read_and_moved_by_rewrap(aws: Aws) -> None:
    """Customer keys written before the split (wrapped under a data-key, no wrap_context)."""
    token = aws.vault().tokenize("ten_a", VISA, customer_id="cus_1").token
    pk = {"pk": {"S": customer_key_pk("ten_a", "cus_1")}}
    item = aws.ddb.get_item(TableName=TABLE, Key=pk)["Item"]
    keys = KmsKeyService(aws.kms, aws.key_id, aws.mac_key_id)
    aad = customer_key_aad("ten_a", "cus_1", item["customer_key_id"]["S"])
    wk = keys.decrypt_data_key(
        aws.key_id, bytes(item["wrapped_data_key"]["B"]), customer_key_context("ten_a")
    )
    plain = open_sealed(wk, bytes(item["nonce"]["B"]), bytes(item["wrapped_key"]["B"]), aad)
    dk = keys.generate_data_key(data_key_context("ten_a"))
    del item["wrap_context"]
    item |= {
        "v": {"N": "1"},
        "wrapped_data_key": {"B": dk.wrapped},
        "wrapped_key": {"B": seal(dk.plaintext, bytes(item["nonce"]["B"]), plain, aad)},
    }
    aws.ddb.put_item(TableName=TABLE, Item=item)
    assert aws.vault().detokenize("ten_a", token, caller=DETOKENIZER, purpose="x").number == VISA
    report = aws.vault().rewrap(caller=DETOKENIZER)
    assert (report.customer_keys_rewrapped, report.tokens_rewrapped, report.failed) == (1, 0, 0)
    moved = aws.ddb.get_item(TableName=TABLE, Key=pk)["Item"]
    assert (moved["wrap_context"]["S"], moved["v"]["N"]) == ("customer-key", "2")
    assert aws.vault().detokenize("ten_a", token, caller=DETOKENIZER, purpose="x").number == VISA


# ------------------------------------------------ issue 18: the attacks, on DynamoDB and KMS


def test_f1_fingerprint_and_card_key_are_kms_macs_over_the_card(aws: Aws) -> None:
    card_mac = aws.kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")[
        "KeyMetadata"
    ]["Arn"]
    keys = KmsKeyService(aws.kms, aws.key_id, aws.mac_key_id, card_key_mac_key_id=card_mac)
    vault = Vault(keys, DynamoVaultStore(aws.ddb, TABLE), aws.audit)
    result = vault.tokenize("ten_a", VISA, customer_id="cus_1")
    # A MAC of the old public message is no secret that reproduces the fingerprint.
    public = aws.kms.generate_mac(
        KeyId=aws.mac_key_id, MacAlgorithm="HMAC_SHA_256", Message=b"vault-fingerprint-v1\x1ften_a"
    )["Mac"]
    offline = hmac.new(public, VISA.encode(), hashlib.sha256).digest()
    assert result.fingerprint != "fp_" + base64.urlsafe_b64encode(offline).rstrip(b"=").decode()
    # The card key comes from its own KMS key and is kept in the (encrypted) record.
    assert result.card_key == vault.tokenize("ten_b", VISA, customer_id="cus_9").card_key
    item = aws.ddb.get_item(TableName=TABLE, Key={"pk": {"S": token_pk("ten_a", result.token)}})[
        "Item"
    ]
    assert item["card_key"]["S"] == result.card_key and item["v"]["N"] == "2"
    same_key = KmsKeyService(aws.kms, aws.key_id, aws.mac_key_id)
    assert (
        Vault(same_key, DynamoVaultStore(aws.ddb, TABLE), aws.audit)
        .tokenize("ten_c", VISA)
        .card_key
        != result.card_key
    )


def test_f7_flipping_single_use_in_the_table_breaks_the_record(aws: Aws) -> None:
    token = aws.vault().tokenize("ten_a", VISA, single_use=True, ttl_seconds=600).token
    item = aws.ddb.get_item(TableName=TABLE, Key={"pk": {"S": token_pk("ten_a", token)}})["Item"]
    item["single_use"] = {"BOOL": False}
    del item["expires_at"]
    aws.ddb.put_item(TableName=TABLE, Item=item)
    with pytest.raises(VaultRecordTamperedError):
        aws.vault().detokenize("ten_a", token, caller=DETOKENIZER, purpose="authorization")


def test_f6_a_record_is_written_only_while_its_customer_key_exists(aws: Aws) -> None:
    warm = aws.vault()
    first = warm.tokenize("ten_a", VISA, customer_id="cus_1")
    store = DynamoVaultStore(aws.ddb, TABLE)
    record = store.get_token("ten_a", first.token)
    assert record is not None
    aws.ddb.delete_item(TableName=TABLE, Key={"pk": {"S": customer_key_pk("ten_a", "cus_1")}})
    with pytest.raises(CustomerKeyErasedError):
        store.put_token_if_absent(dataclasses.replace(record, token="tok_" + "A" * 22))
    assert store.get_token("ten_a", "tok_" + "A" * 22) is None  # taken back, not left dead
    # The warm container still has the erased key cached: it reseals under a fresh key.
    fresh = warm.tokenize("ten_a", AMEX, customer_id="cus_1")
    got = aws.vault().detokenize("ten_a", fresh.token, caller=DETOKENIZER, purpose="authorization")
    assert got.number == AMEX
    # And deduplication no longer hands out the dead token of the erased key.
    again = aws.vault().tokenize("ten_a", VISA, customer_id="cus_1")
    assert again.token != first.token and again.created


def test_f6_an_erasure_between_the_write_and_the_key_check_takes_the_record_back(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record is written, then its customer key read: an erasure that lands in between
    (the key deleted just after the PutItem) is seen, and the record written is deleted."""
    first = aws.vault().tokenize("ten_a", VISA, customer_id="cus_1")
    store = DynamoVaultStore(aws.ddb, TABLE)
    record = store.get_token("ten_a", first.token)
    assert record is not None
    put_item = aws.ddb.put_item

    def put_then_erase(**kwargs: Any) -> Any:
        answer = put_item(**kwargs)
        aws.ddb.delete_item(TableName=TABLE, Key={"pk": {"S": customer_key_pk("ten_a", "cus_1")}})
        return answer

    monkeypatch.setattr(aws.ddb, "put_item", put_then_erase)
    racing = dataclasses.replace(record, token="tok_" + "B" * 22)
    with pytest.raises(CustomerKeyErasedError):
        store.put_token_if_absent(racing)
    monkeypatch.setattr(aws.ddb, "put_item", put_item)
    assert store.get_token("ten_a", racing.token) is None


KEY_TABLE = "payments-vault-keys"


def _create_key_table(ddb: Any) -> None:
    """The customer-key table as the Terraform module creates it (pk only, no GSI, no PITR)."""
    ddb.create_table(
        TableName=KEY_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )


def _split_vault(aws: Aws, key_table: str | None = KEY_TABLE) -> Vault:
    keys = KmsKeyService(aws.kms, aws.key_id, aws.mac_key_id)
    return Vault(keys, DynamoVaultStore(aws.ddb, TABLE, key_table_name=key_table), aws.audit)


def _all_items(aws: Aws, table: str) -> list[dict[str, Any]]:
    return list(aws.ddb.scan(TableName=table)["Items"])


@pytest.mark.parametrize("key_table", [None, KEY_TABLE], ids=["one_table", "key_table"])
def test_f2_restoring_the_vault_table_after_an_erasure(aws: Aws, key_table: str | None) -> None:
    """Review H2: the vault table has PITR; with customer keys in it, a restore to before the
    erasure brought back the key and every record decrypted again."""
    _create_key_table(aws.ddb)
    vault = _split_vault(aws, key_table)
    token = vault.tokenize("ten_a", VISA, customer_id="cus_gone").token
    point_in_time = _all_items(aws, TABLE)  # what a PITR restore of the vault table holds
    vault.erase_customer("ten_a", "cus_gone", caller=DETOKENIZER)
    for item in point_in_time:
        aws.ddb.put_item(TableName=TABLE, Item=item)
    reader = _split_vault(aws, key_table)
    if key_table is None:
        # The attack, as the review reproduced it: the erased customer's card is back.
        got = reader.detokenize("ten_a", token, caller=DETOKENIZER, purpose="x")
        assert got.number == VISA
        return
    with pytest.raises(CustomerKeyErasedError):
        reader.detokenize("ten_a", token, caller=DETOKENIZER, purpose="x")


def test_f2_customer_keys_written_before_the_split_move_to_the_key_table(aws: Aws) -> None:
    _create_key_table(aws.ddb)
    old = _split_vault(aws, None).tokenize("ten_a", VISA, customer_id="cus_1")
    assert any(i["pk"]["S"].startswith("C#") for i in _all_items(aws, TABLE))
    again = _split_vault(aws).tokenize("ten_a", VISA, customer_id="cus_1")
    assert again.token == old.token and not again.created
    assert not any(i["pk"]["S"].startswith("C#") for i in _all_items(aws, TABLE))
    assert [i["pk"]["S"] for i in _all_items(aws, KEY_TABLE)] == [customer_key_pk("ten_a", "cus_1")]
    got = _split_vault(aws).detokenize("ten_a", old.token, caller=DETOKENIZER, purpose="x")
    assert got.number == VISA
    # Erasure with a key still in the vault table shreds it there too.
    legacy = _split_vault(aws, None).tokenize("ten_a", AMEX, customer_id="cus_2").token
    report = _split_vault(aws).erase_customer("ten_a", "cus_2", caller=DETOKENIZER)
    assert report.customer_key_deleted
    with pytest.raises((CustomerKeyErasedError, TokenNotFoundError)):
        _split_vault(aws).detokenize("ten_a", legacy, caller=DETOKENIZER, purpose="x")


# ------------------------------------------- finding 4: format-preserving tokens per tenant


SAME_CLASS_AS_VISA = "4242420000184242"  # first six, last four and length of VISA


def _fpe_vault(aws: Aws) -> Vault:
    return aws.vault(settings=VaultSettings(fpe_max_attempts=2), random=RepeatingMiddles())


def test_f4_format_preserving_tokens_are_per_tenant_on_dynamodb(aws: Aws) -> None:
    """Review M4: one namespace for every tenant; one tenant exhausted a 6+4 class for all."""
    fpe = TokenFormat.FORMAT_PRESERVING
    a = _fpe_vault(aws).tokenize("ten_a", VISA, token_format=fpe, single_use=True)
    with pytest.raises(TokenSpaceExhaustedError):  # the class is full for ten_a
        _fpe_vault(aws).tokenize("ten_a", VISA, token_format=fpe, single_use=True)
    b = _fpe_vault(aws).tokenize("ten_b", SAME_CLASS_AS_VISA, token_format=fpe)
    assert b.token == a.token  # free in ten_b's namespace
    for tenant, pan in (("ten_a", VISA), ("ten_b", SAME_CLASS_AS_VISA)):
        item = aws.ddb.get_item(TableName=TABLE, Key={"pk": {"S": f"T#{tenant}#{a.token}"}})
        assert item["Item"]["tenant_id"]["S"] == tenant
        got = aws.vault().detokenize(tenant, a.token, caller=DETOKENIZER, purpose="x")
        assert got.number == pan
    with pytest.raises(TokenNotFoundError):  # consumed (single use): ten_b's stays
        aws.vault().detokenize("ten_a", a.token, caller=DETOKENIZER, purpose="x")
    assert aws.vault().describe("ten_b", b.token).tenant_id == "ten_b"
    with pytest.raises(TokenNotFoundError):
        aws.vault().describe("ten_c", a.token)
    opaque = aws.vault().tokenize("ten_a", VISA).token
    assert token_pk("ten_a", opaque) == f"T#{opaque}"  # opaque tokens keep their key


def _to_legacy_key(aws: Aws, tenant: str, token: str) -> None:
    """Move a format-preserving record to the key every record had before (T#<token>)."""
    item = aws.ddb.get_item(TableName=TABLE, Key={"pk": {"S": token_pk(tenant, token)}})["Item"]
    aws.ddb.delete_item(TableName=TABLE, Key={"pk": {"S": token_pk(tenant, token)}})
    item["pk"] = {"S": legacy_token_pk(token)}
    aws.ddb.put_item(TableName=TABLE, Item=item)


def test_f4_format_preserving_records_under_the_old_key_stay_usable_until_rewrap(
    aws: Aws,
) -> None:
    fpe = TokenFormat.FORMAT_PRESERVING
    old = _fpe_vault(aws).tokenize("ten_a", VISA, token_format=fpe, customer_id="cus_1")
    reusable = old.token
    once = aws.vault().tokenize("ten_a", MASTERCARD, token_format=fpe, single_use=True).token
    _to_legacy_key(aws, "ten_a", reusable)
    _to_legacy_key(aws, "ten_a", once)

    # Read, described and deduplicated where they are; never shown to another tenant.
    assert aws.vault().describe("ten_a", reusable).last4 == VISA[-4:]
    again = aws.vault().tokenize("ten_a", VISA, token_format=fpe, customer_id="cus_1")
    assert (again.token, again.created) == (reusable, False)
    with pytest.raises(TokenTenantMismatchError):
        aws.vault().detokenize("ten_b", reusable, caller=DETOKENIZER, purpose="x")
    # A new token of the same tenant is never issued over the old record (it would shadow it).
    with pytest.raises(TokenSpaceExhaustedError):
        _fpe_vault(aws).tokenize("ten_a", SAME_CLASS_AS_VISA, token_format=fpe, single_use=True)
    other = _fpe_vault(aws).tokenize("ten_b", SAME_CLASS_AS_VISA, token_format=fpe)
    assert other.token == reusable  # another tenant may hold the same value
    # A single-use record under the old key is consumed there, once.
    got = aws.vault().detokenize("ten_a", once, caller=DETOKENIZER, purpose="x")
    assert got.number == MASTERCARD
    with pytest.raises(TokenNotFoundError):
        aws.vault().detokenize("ten_a", once, caller=DETOKENIZER, purpose="x")

    # rewrap moves the old record to the tenant's key, without re-sealing it.
    sealed = _record_item_at(aws, legacy_token_pk(reusable))["ciphertext"]
    report = aws.vault().rewrap(caller=DETOKENIZER)
    assert (report.failed, report.tokens_rewrapped) == (0, 0)
    old_key = {"pk": {"S": legacy_token_pk(reusable)}}
    assert "Item" not in aws.ddb.get_item(TableName=TABLE, Key=old_key)
    moved = _record_item(aws, "ten_a", reusable)
    assert moved["tenant_id"]["S"] == "ten_a" and moved["ciphertext"] == sealed
    got = aws.vault().detokenize("ten_a", reusable, caller=DETOKENIZER, purpose="x")
    assert got.number == VISA
    got = aws.vault().detokenize("ten_b", other.token, caller=DETOKENIZER, purpose="x")
    assert got.number == SAME_CLASS_AS_VISA


# ---------------------------------------------- finding 5: the class counters on DynamoDB


def test_f5_class_counters_hold_across_containers_and_show_no_card_digits(aws: Aws) -> None:
    settings = VaultSettings(class_limit=ClassLimit(max_new_cards=2, window_seconds=3600))

    def container() -> Vault:
        return aws.vault(settings=settings, class_limited=True)

    container().tokenize("ten_a", VISA, customer_id="c1")
    container().tokenize("ten_a", VISA, customer_id="c1")  # a returning card: not counted
    container().tokenize("ten_a", SAME_CLASS_AS_VISA, customer_id="c1")
    with pytest.raises(TokenizeRateLimitedError):  # a third container: the count is shared
        container().tokenize("ten_a", VISA, customer_id="c1")
    assert container().tokenize("ten_b", VISA, customer_id="c1").created
    counters = [
        item for item in aws.ddb.scan(TableName=TABLE)["Items"] if item["pk"]["S"].startswith("R#")
    ]
    assert len(counters) == 2  # ten_a's (2) and ten_b's (1)
    assert sorted(int(c["n"]["N"]) for c in counters) == [1, 2]
    for counter in counters:
        assert set(counter) == {"pk", "n", "kind", "expires_at"}  # TTL, nothing else
        assert VISA[:6] not in json.dumps(counter) and VISA[-4:] not in json.dumps(counter)
        assert counter["pk"]["S"] == class_count_pk(counter["pk"]["S"][2:])
    # The counters are not token records: rewrap and erasure do not see them.
    assert container().rewrap(caller=DETOKENIZER).failed == 0
