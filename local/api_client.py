"""A small client of the Payment API on the local API: a merchant's secret API key
(``Authorization: Bearer sk_…``) on the merchant routes, or SigV4 (AWS_IAM) for the platform's
own roles on detokenize and the credit reviews. ``onboard`` creates a merchant and its key in
the running environment's registry, as ``make merchant`` does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from functions.adapters.merchant_wiring import build_registry
from functions.contracts.merchants import IssuedKey
from functions.services.merchant_registry import MerchantRegistry
from local.aws import REGION, emulator_client


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiClient:
    base_url: str
    credentials: Credentials | None = None
    merchant_id: str | None = None
    api_name: str | None = None
    api_key: str | None = None

    @classmethod
    def for_merchant(cls, base_url: str, issued: IssuedKey, api_name: str | None) -> ApiClient:
        """A merchant's integration: its key, and its id (X-Merchant-Id, which must match)."""
        return cls(base_url, None, issued.merchant_id, api_name, issued.api_key)

    def post(self, path: str, body: Any, *, idempotency_key: str | None = None) -> ApiResponse:
        extra = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.request("POST", path, body, extra)

    def get(self, path: str) -> ApiResponse:
        return self.request("GET", path)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        extra_headers: dict[str, str] | None = None,
    ) -> ApiResponse:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **(extra_headers or {})}
        if self.merchant_id:
            headers["X-Merchant-Id"] = self.merchant_id
        if self.api_name:
            headers["X-Api-Name"] = self.api_name
        url = f"{self.base_url}{path}"
        if self.api_key is not None:
            headers["Authorization"] = f"Bearer {self.api_key}"
        elif self.credentials is not None:
            signed = AWSRequest(method=method, url=url, data=data or b"", headers=headers)
            SigV4Auth(self.credentials, "execute-api", REGION).add_auth(signed)
            headers = dict(signed.headers.items())
        prepared = urllib.request.Request(  # noqa: S310 (the local API's http URL)
            url, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(prepared, timeout=30) as reply:  # noqa: S310
                body = json.loads(reply.read() or b"null")
                return ApiResponse(reply.status, body, dict(reply.headers.items()))
        except urllib.error.HTTPError as error:
            body = json.loads(error.read() or b"null")
            return ApiResponse(error.code, body, dict(error.headers.items()))


def role_credentials(sts: Any, role_arn: str, session: str) -> Credentials:
    assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
    return Credentials(assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"])


def local_registry(endpoint_url: str, outputs: Mapping[str, Any]) -> MerchantRegistry:
    """The merchant registry of environments/local on the emulator (its outputs name it)."""
    table = str(outputs["merchant_registry"]["table_name"])
    return build_registry(
        emulator_client("dynamodb", endpoint_url),
        table,
        "local",
        emulator_client("apigateway", endpoint_url),
    )


def onboard(endpoint_url: str, outputs: Mapping[str, Any], merchant_id: str) -> IssuedKey:
    """The merchant created with a first key, or, if it exists already, a new key for it."""
    registry = local_registry(endpoint_url, outputs)
    if registry.merchant_exists(merchant_id):
        return registry.issue_key(merchant_id)
    return registry.create_merchant(merchant_id)
