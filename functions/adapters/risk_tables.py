"""The SCA step's ports on the payments table (items beside the payments, as the mandates and
counters always were):

* ``sca-counter#<platform card key>``: the Art. 16 counter (``PaymentsTable`` keeps the item);
* ``mandate#<merchant>#<card>``: the Art. 14 series;
* ``mit-agreement#<merchant>#<card>``: the confirmed merchant-initiated agreement, and
  ``mit-agreement-opened#<initial payment id>``: one opened by an authenticated payment, waiting
  for its authorization's network transaction reference (``GetItem``/``PutItem`` only, which
  the assess_risk and process_payment roles already hold on the table).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.adapters.payments_table import PaymentsTable, StaleWriteError
from functions.domain.sca import LowValueCounter, MitAgreement, RecurringMandate
from functions.services.risk import CounterConflictError, Mandates, MitAgreements, ScaCounters

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class TableScaCounters(ScaCounters):
    def __init__(self, table: PaymentsTable) -> None:
        self._table = table

    def read(self, card_key: str) -> tuple[LowValueCounter, int]:
        consecutive, cumulative, version = self._table.read_counter(card_key)
        return LowValueCounter(consecutive, cumulative), version

    def write(self, card_key: str, counter: LowValueCounter, read_version: int) -> None:
        try:
            self._table.write_counter(
                card_key, counter.consecutive, counter.cumulative_eur_minor, read_version
            )
        except StaleWriteError as error:
            raise CounterConflictError(card_key) from error


class TableMandates(Mandates):
    def __init__(self, table: PaymentsTable) -> None:
        self._table = table

    def find(self, merchant_id: str, card_key: str) -> RecurringMandate | None:
        found = self._table.read_mandate(merchant_id, card_key)
        if found is None:
            return None
        return RecurringMandate(
            amount_minor=found["amount"],
            currency=found["currency"],
            merchant_id=found["merchant_id"],
            authenticated=bool(found["authenticated"]),
        )

    def save(self, merchant_id: str, card_key: str, amount: int, currency: str) -> None:
        self._table.write_mandate(merchant_id, card_key, amount, currency)


def _agreement(item: dict[str, Any]) -> MitAgreement:
    reference = item.get("network_reference", {}).get("S")
    return MitAgreement(
        merchant_id=item["merchant_id"]["S"],
        card_key=item["card_key"]["S"],
        initial_payment_id=item["initial_payment_id"]["S"],
        network_reference=reference,
        authenticated=bool(item["authenticated"]["BOOL"]),
    )


def _item(key: str, agreement: MitAgreement) -> dict[str, Any]:
    item: dict[str, Any] = {
        "payment_id": {"S": key},
        "merchant_id": {"S": agreement.merchant_id},
        "card_key": {"S": agreement.card_key},
        "initial_payment_id": {"S": agreement.initial_payment_id},
        "authenticated": {"BOOL": agreement.authenticated},
    }
    if agreement.network_reference:
        item["network_reference"] = {"S": agreement.network_reference}
    return item


class TableMitAgreements(MitAgreements):
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    @staticmethod
    def _confirmed_key(merchant_id: str, card_key: str) -> str:
        return f"mit-agreement#{merchant_id}#{card_key}"

    @staticmethod
    def _opened_key(initial_payment_id: str) -> str:
        return f"mit-agreement-opened#{initial_payment_id}"

    def _get(self, key: str) -> MitAgreement | None:
        item = self._client.get_item(
            TableName=self._table, Key={"payment_id": {"S": key}}, ConsistentRead=True
        ).get("Item")
        return _agreement(item) if item else None

    def find(self, merchant_id: str, card_key: str) -> MitAgreement | None:
        return self._get(self._confirmed_key(merchant_id, card_key))

    def open(self, agreement: MitAgreement) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=_item(self._opened_key(agreement.initial_payment_id), agreement),
        )

    def confirm(self, initial_payment_id: str, network_reference: str) -> MitAgreement | None:
        opened_key = self._opened_key(initial_payment_id)
        opened = self._get(opened_key)
        if opened is None:
            return None
        agreement = opened.confirmed(network_reference)
        # A later agreement of the same merchant and card replaces the earlier one: MITs quote
        # the newest initial payment's reference. The opened item stays as the record of which
        # payment set it up; confirming again writes the same item (safe to retry).
        self._client.put_item(
            TableName=self._table,
            Item=_item(self._confirmed_key(agreement.merchant_id, agreement.card_key), agreement),
        )
        return agreement
