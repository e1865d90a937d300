"""The vault's ``AuditSink``: CloudWatch Logs (the record) and EventBridge (the signal).

Every ``AuditEvent`` (detokenize, erase_customer, rewrap) becomes

* one JSON line in the dedicated, KMS-encrypted audit log group (``VAULT_AUDIT_LOG_GROUP``),
  in a log stream this container creates on its first event; and
* when ``VAULT_AUDIT_EVENT_BUS`` names a bus (the deployer's SIEM feed), one EventBridge event
  on it with source ``payments.vault`` and detail-type ``vault.detokenize``, ``vault.erasure``
  or ``vault.rewrap``. Without one nothing is published: an event no rule reads is dropped,
  and the log group's metric filters already raise the alarms.

Nothing is batched: detokenization is rare and each call must be on record before the card
number leaves the function. Any failure (either destination) raises ``VaultUnavailableError``,
which fails the detokenize: there is no unaudited card access. The event carries the caller,
time, purpose, token, tenant and outcome, never a card number (the domain's ``AuditEvent`` has
no field that could hold one, and only token-shaped strings reach ``token``).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.domain.vault.errors import VaultUnavailableError
from functions.domain.vault.model import AuditAction, AuditEvent

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

    from functions.adapters.clients import EventsClient

EVENT_SOURCE = "payments.vault"
DETAIL_TYPES = {
    AuditAction.DETOKENIZE: "vault.detokenize",
    AuditAction.ERASE_CUSTOMER: "vault.erasure",
    AuditAction.REWRAP: "vault.rewrap",
}


def audit_record(event: AuditEvent, source: str) -> dict[str, Any]:
    """The JSON object written to both destinations."""
    return {"schema": "vault.audit.v1", "source_function": source, **event.to_dict()}


class CloudWatchEventBridgeAuditSink:
    """``stream_prefix`` names this container's log stream (``<prefix>/<date>/<random>``)."""

    def __init__(
        self,
        logs: CloudWatchLogsClient,
        events: EventsClient,
        log_group: str,
        event_bus: str | None,
        *,
        source_function: str = "vault",
    ) -> None:
        self._logs = logs
        self._events = events
        self._log_group = log_group
        self._event_bus = event_bus
        self._source = source_function
        self._stream: str | None = None

    def __repr__(self) -> str:
        return (
            f"CloudWatchEventBridgeAuditSink(log_group={self._log_group!r}, "
            f"event_bus={self._event_bus!r})"
        )

    def emit(self, event: AuditEvent) -> None:
        record = audit_record(event, self._source)
        line = json.dumps(record, separators=(",", ":"), sort_keys=True)
        try:
            self._logs.put_log_events(
                logGroupName=self._log_group,
                logStreamName=self._log_stream(),
                logEvents=[{"timestamp": int(event.at.timestamp() * 1000), "message": line}],
            )
            if self._event_bus is None:
                return
            response = self._events.put_events(
                Entries=[
                    {
                        "Source": EVENT_SOURCE,
                        "DetailType": DETAIL_TYPES[event.action],
                        "Detail": line,
                        "EventBusName": self._event_bus,
                        "Time": event.at,
                    }
                ]
            )
        except (ClientError, BotoCoreError):
            raise VaultUnavailableError() from None
        if response.get("FailedEntryCount", 0):
            raise VaultUnavailableError()

    def _log_stream(self) -> str:
        if self._stream is None:
            today = dt.datetime.now(dt.UTC).strftime("%Y/%m/%d")
            name = f"{self._source}/{today}/{secrets.token_hex(8)}"
            try:
                self._logs.create_log_stream(logGroupName=self._log_group, logStreamName=name)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code != "ResourceAlreadyExistsException":
                    raise
            self._stream = name
        return self._stream


class RefusingAuditSink:
    """For functions that must never perform an audited action (tokenize): any audit event is
    refused, so an audited operation reached by mistake fails instead of going unrecorded."""

    def emit(self, event: AuditEvent) -> None:
        raise VaultUnavailableError()
