"""The one place that assembles a vault from a function's settings and the shared clients."""

from __future__ import annotations

from functions.adapters import clients
from functions.adapters.kms import KmsKeyService
from functions.adapters.vault_audit import CloudWatchEventBridgeAuditSink, RefusingAuditSink
from functions.adapters.vault_table import DynamoVaultStore
from functions.domain.vault import AuditSink, Vault
from functions.models.tokens import VaultFunctionSettings


def build_vault(
    settings: VaultFunctionSettings, *, audited: bool, class_limited: bool = False
) -> Vault:
    """A vault over KMS and the vault table. ``audited`` functions (detokenize, admin) write
    every call to the audit log group and bus, and refuse to start without them; the tokenize
    function gets a sink that refuses, so it can never reach the detokenize path.
    ``class_limited`` (the tokenize function) counts new cards per tenant and card class in the
    vault table and refuses a class at ``settings.vault.class_limit`` (finding 5)."""
    keys = KmsKeyService(
        clients.kms(),
        settings.kms_key_id,
        settings.fingerprint_key_id,
        card_key_mac_key_id=settings.card_key_mac_key_id,
        decrypt_key_ids=settings.decrypt_key_ids or None,
    )
    store = DynamoVaultStore(
        clients.dynamodb(), settings.table_name, key_table_name=settings.key_table_name
    )
    audit: AuditSink = RefusingAuditSink()
    if audited:
        if not settings.audit_log_group:
            raise RuntimeError("VAULT_AUDIT_LOG_GROUP must be set")
        audit = CloudWatchEventBridgeAuditSink(
            clients.logs(),
            clients.events(),
            settings.audit_log_group,
            settings.audit_event_bus or None,
            source_function=settings.function_name,
        )
    return Vault(
        keys, store, audit, settings=settings.vault, class_counter=store if class_limited else None
    )
