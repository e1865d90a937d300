"""What the lake's transformation step does to a record before Firehose converts it.

Card numbers: defence in depth behind the event contract, which already refuses any event
holding a card number. If one ever reaches the stream anyway (a producer that bypassed the
contract), every Luhn-valid run of 13-19 digits is replaced, so it lands neither in the lake nor,
should the record then fail conversion, under the errors prefix (Firehose writes a failed
record's data there as it is).

Personal data (GDPR Art. 4(5), 25, 32): the customer id and the device id land only as keyed
pseudonyms. The key is one random secret per customer (per merchant, since customer ids are the
merchant's), held in a key store the lake's key encrypts; erasing a customer (Art. 17) deletes
their secret, after which nobody can recompute their pseudonyms, so their rows in the lake, and
in any copy of it, can no longer be linked to them (crypto-shredding). A customer's device id is
pseudonymised under the customer's secret for the same reason; a record without a customer id
uses its merchant's secret, which a customer's erasure does not reach. The raw identifiers, the
IP address and the vault token are removed here, not only by the Glue allow-list, so a record
that fails conversion does not carry them under the errors prefix either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from functions.domain.cards import card_number_spans

REDACTED = "[card number redacted]"

# Direct identifiers and the vault's handle to the card: never in the lake, errors included.
REMOVED_FIELDS = ("customer_id", "device_id", "ip", "token")


@dataclass(frozen=True)
class Redaction:
    text: str
    redacted: int
    # Not for this table: Firehose is told the record was dropped, so it lands nowhere.
    dropped: bool = False


def redact_card_numbers(text: str) -> Redaction:
    spans = card_number_spans(text)
    if not spans:
        return Redaction(text, 0)
    parts, last = [], 0
    for start, end in spans:
        parts += [text[last:start], REDACTED]
        last = end
    parts.append(text[last:])
    return Redaction("".join(parts), len(spans))


class PseudonymKeys(Protocol):
    """The per-customer pseudonymisation secrets (modules/data_lake's key table)."""

    def secrets(self, scopes: Collection[str]) -> Mapping[str, bytes]:
        """Each scope's secret; a scope without one gets a new random secret, created once
        however many callers ask at the same time."""
        ...

    def erase(self, scope: str) -> bool:
        """Destroy the scope's secret; False if it had none."""
        ...


def key_scope(merchant_id: str, customer_id: str | None) -> str:
    """Whose secret pseudonymises a record: its customer's, else its merchant's. The parts are
    length-prefixed, so no choice of ids makes two customers share a scope."""
    if customer_id:
        return f"customer#{len(merchant_id)}:{merchant_id}#{customer_id}"
    return f"merchant#{merchant_id}"


def pseudonym(secret: bytes, kind: str, value: str) -> str:
    """HMAC-SHA-256 of the identifier under the scope's secret, truncated to 128 bits; the kind
    is in the MAC, so a customer id and a device id with the same value differ."""
    digest = hmac.new(secret, f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()
    return f"ps_{digest[:32]}"


@dataclass(frozen=True)
class _Parsed:
    record: dict[str, Any]
    scope: str | None  # None: a record without a merchant id, which no secret covers


PAYMENT_EVENTS = "payment_events"
FRAUD_ALERTS = "fraud_alerts"
# Alert subjects that are personal data (online identifiers): their alerts land without them.
PERSONAL_SUBJECTS = frozenset({"device", "ip"})


def _parsed(text: str) -> _Parsed | None:
    """The record as an object with the scope of its secret, or None for anything that is not
    a JSON object (it fails conversion and lands under errors/)."""
    try:
        record = json.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    merchant, customer = record.get("merchant_id"), record.get("customer_id")
    if not isinstance(merchant, str) or not merchant:
        return _Parsed(record, None)
    return _Parsed(record, key_scope(merchant, customer if isinstance(customer, str) else None))


def _table_of(record: dict[str, Any]) -> str:
    return FRAUD_ALERTS if "alert_id" in record else PAYMENT_EVENTS


def _payment_event(record: dict[str, Any], secret: bytes | None) -> str:
    for kind, field in (("customer", "customer_id"), ("device", "device_id")):
        value = record.get(field)
        record[f"{kind}_pseudonym"] = (
            pseudonym(secret, kind, str(value)) if secret is not None and value else None
        )
    for field in REMOVED_FIELDS:
        record.pop(field, None)
    return json.dumps(record, separators=(",", ":"))


def _alert(record: dict[str, Any]) -> str:
    if record.get("subject_type") in PERSONAL_SUBJECTS:
        record["subject"] = None
    return json.dumps(record, separators=(",", ":"))


def prepare(
    texts: Sequence[str], keys: PseudonymKeys, table: str = PAYMENT_EVENTS
) -> list[Redaction]:
    """Each record as the lake's ``table`` may hold it, for the delivery stream that fills it:
    the stream carries both kinds, and each delivery stream keeps its own and drops the other.
    Card numbers are redacted in both. Payment events: the customer and device ids replaced by
    ``customer_pseudonym`` and ``device_pseudonym``, the removed fields gone, with one call to
    the key store for the whole batch. Fraud alerts: the subject removed where it is a device id
    or an IP address."""
    redactions = [redact_card_numbers(text) for text in texts]
    parsed = [_parsed(r.text) for r in redactions]
    kept = [p if p is not None and _table_of(p.record) == table else None for p in parsed]
    scopes = {p.scope for p in kept if p is not None and p.scope is not None}
    secrets = keys.secrets(scopes) if table == PAYMENT_EVENTS and scopes else {}
    out: list[Redaction] = []
    for redaction, item, own in zip(redactions, parsed, kept, strict=True):
        if item is None:  # not a JSON object: left to fail conversion
            out.append(redaction)
        elif own is None:  # the other table's record
            out.append(Redaction("", redaction.redacted, dropped=True))
        elif table == FRAUD_ALERTS:
            out.append(Redaction(_alert(own.record), redaction.redacted))
        else:
            secret = secrets[own.scope] if own.scope is not None else None
            out.append(Redaction(_payment_event(own.record, secret), redaction.redacted))
    return out
