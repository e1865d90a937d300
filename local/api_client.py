"""A small client of the Payment API on the local API, signing requests with SigV4 (AWS_IAM)."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.aws import REGION


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any


@dataclass(frozen=True)
class ApiClient:
    base_url: str
    credentials: Credentials
    merchant_id: str | None = None
    api_name: str | None = None

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
        signed = AWSRequest(method=method, url=url, data=data or b"", headers=headers)
        SigV4Auth(self.credentials, "execute-api", REGION).add_auth(signed)
        prepared = urllib.request.Request(  # noqa: S310 (the local API's http URL)
            url, data=data, method=method, headers=dict(signed.headers.items())
        )
        try:
            with urllib.request.urlopen(prepared, timeout=30) as reply:  # noqa: S310
                return ApiResponse(reply.status, json.loads(reply.read() or b"null"))
        except urllib.error.HTTPError as error:
            return ApiResponse(error.code, json.loads(error.read() or b"null"))


def user_credentials(iam: Any, user_name: str) -> Credentials:
    """An IAM user with an access key, as a merchant's server would hold. A user keeps at most
    two keys, so older ones are deleted first (callers may ask again for the same user)."""
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_user(UserName=user_name)
    for old in iam.list_access_keys(UserName=user_name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=user_name, AccessKeyId=old["AccessKeyId"])
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def role_credentials(sts: Any, role_arn: str, session: str) -> Credentials:
    assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
    return Credentials(assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"])
