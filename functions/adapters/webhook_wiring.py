"""The webhook services assembled from a function's environment (modules/webhooks sets it)."""

from __future__ import annotations

import datetime as dt
import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from functions.adapters import clients
from functions.adapters.webhook_http import HttpWebhookSender
from functions.adapters.webhook_queue import SqsDeliveryQueue
from functions.adapters.webhook_secrets import KmsSecretSealer
from functions.adapters.webhooks_table import DynamoWebhookStore
from functions.domain.webhooks import RetryPolicy, UrlPolicy
from functions.services.webhook_delivery import WebhookDelivery
from functions.services.webhook_endpoints import WebhookEndpoints


def _flag(name: str) -> bool:
    return os.environ.get(name, "false").strip().lower() == "true"


class WebhookSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=1)
    kms_key_id: str = Field(min_length=1)
    queue_url: str = ""
    allow_http: bool = False
    allow_private_addresses: bool = False
    retry_base_seconds: int = Field(default=30, ge=1)
    retry_max_delay_seconds: int = Field(default=3600, ge=1)
    give_up_after_seconds: int = Field(default=86400, ge=60)
    log_retention_days: int = Field(default=30, ge=1)
    http_timeout_seconds: float = Field(default=10.0, gt=0)

    @classmethod
    def from_environ(cls) -> WebhookSettings:
        env = os.environ
        return cls(
            table_name=env.get("WEBHOOKS_TABLE_NAME", ""),
            kms_key_id=env.get("WEBHOOKS_KMS_KEY_ARN", ""),
            queue_url=env.get("WEBHOOK_DELIVERY_QUEUE_URL", ""),
            allow_http=_flag("WEBHOOK_ALLOW_HTTP"),
            allow_private_addresses=_flag("WEBHOOK_ALLOW_PRIVATE_ADDRESSES"),
            retry_base_seconds=int(env.get("WEBHOOK_RETRY_BASE_SECONDS", "30")),
            retry_max_delay_seconds=int(env.get("WEBHOOK_RETRY_MAX_DELAY_SECONDS", "3600")),
            give_up_after_seconds=int(env.get("WEBHOOK_GIVE_UP_AFTER_SECONDS", "86400")),
            log_retention_days=int(env.get("WEBHOOK_LOG_RETENTION_DAYS", "30")),
            http_timeout_seconds=float(env.get("WEBHOOK_HTTP_TIMEOUT_SECONDS", "10")),
        )

    @property
    def url_policy(self) -> UrlPolicy:
        return UrlPolicy(self.allow_http, self.allow_private_addresses)


def _store(config: WebhookSettings) -> DynamoWebhookStore:
    retention = dt.timedelta(days=config.log_retention_days)
    return DynamoWebhookStore(clients.dynamodb(), config.table_name, retention)


@cache
def webhook_endpoints() -> WebhookEndpoints:
    config = WebhookSettings.from_environ()
    store = _store(config)
    sealer = KmsSecretSealer(clients.kms(), config.kms_key_id)
    return WebhookEndpoints(store, store, sealer, config.url_policy)


@cache
def webhook_delivery() -> WebhookDelivery:
    config = WebhookSettings.from_environ()
    store = _store(config)
    return WebhookDelivery(
        endpoints=store,
        log=store,
        sealer=KmsSecretSealer(clients.kms(), config.kms_key_id),
        sender=HttpWebhookSender(config.url_policy, config.http_timeout_seconds),
        queue=SqsDeliveryQueue(clients.sqs(), config.queue_url),
        retry=RetryPolicy(
            config.retry_base_seconds, config.retry_max_delay_seconds, config.give_up_after_seconds
        ),
    )
