"""The HTTP acquirer connector's credential from Secrets Manager (moto): read once per
container, read again when the acquirer refuses it (401), so a rotated secret is used without a
redeploy; a refusal of the current value, or no secret, never sends anything twice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters.acquirer_http import HttpAcquirerConnector, SecretsManagerCredential
from functions.domain.acquirer import (
    AcquirerRejectedError,
    AcquirerUnavailableError,
)
from tests.unit.domain_acquirer.test_http_connector import (
    FakeAcquirer,
    _Handler,
    _simulator_route,
    acquirer,
    request,
)

__all__ = ["acquirer"]

SECRET = "payments-test/acquirer"
FIRST, SECOND = "acq_key_first_0001", "acq_key_second_0002"


class CountingSecrets:
    """A boto3 Secrets Manager client that counts its reads."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.reads = 0

    def get_secret_value(self, **kwargs: Any) -> Any:
        self.reads += 1
        return self.client.get_secret_value(**kwargs)


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingSecrets]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        client.create_secret(Name=SECRET, SecretString=FIRST)
        yield CountingSecrets(client)


def accepting(server: FakeAcquirer, credential: str) -> None:
    """The acquirer accepts one credential: any other is a 401 and nothing is done."""

    def route(handler: _Handler, raw: bytes) -> None:
        if handler.headers.get("Authorization") != f"Bearer {credential}":
            handler.answer(401, b'{"error": {"code": "invalid_credential", "message": "no"}}')
            return
        _simulator_route(handler, raw)

    server.route = route


def connect(server: FakeAcquirer, secrets: CountingSecrets) -> HttpAcquirerConnector:
    return HttpAcquirerConnector(
        server.base_url,
        timeout_s=5.0,
        credentials=SecretsManagerCredential(secrets, SECRET),
        allow_insecure_localhost=True,
    )


def test_the_secret_is_read_once_per_container(
    acquirer: FakeAcquirer, secrets: CountingSecrets
) -> None:
    accepting(acquirer, FIRST)
    connector = connect(acquirer, secrets)

    for n in range(3):
        assert connector.authorize(request("4242", key=f"k{n}")).approved

    assert secrets.reads == 1
    assert all(r.headers["Authorization"] == f"Bearer {FIRST}" for r in acquirer.requests)


def test_a_rotated_secret_is_read_again_on_401_and_the_request_sent_once_more(
    acquirer: FakeAcquirer, secrets: CountingSecrets
) -> None:
    accepting(acquirer, FIRST)
    connector = connect(acquirer, secrets)
    assert connector.authorize(request("4242", key="before")).approved

    secrets.client.put_secret_value(SecretId=SECRET, SecretString=SECOND)
    accepting(acquirer, SECOND)
    after = connector.authorize(request("4242", key="after"))

    assert after.approved and secrets.reads == 2
    retried = [r for r in acquirer.requests if r.headers["Idempotency-Key"] == "after"]
    assert [r.headers["Authorization"] for r in retried] == [f"Bearer {FIRST}", f"Bearer {SECOND}"]
    # The new value is kept: the next call sends it first.
    connector.authorize(request("4242", key="next"))
    assert acquirer.requests[-1].headers["Authorization"] == f"Bearer {SECOND}"
    assert secrets.reads == 2


def test_a_refused_current_secret_is_rejected_without_a_second_request(
    acquirer: FakeAcquirer, secrets: CountingSecrets
) -> None:
    accepting(acquirer, "acq_key_someone_else")
    connector = connect(acquirer, secrets)

    with pytest.raises(AcquirerRejectedError):
        connector.authorize(request("4242", key="refused"))

    assert len(acquirer.requests) == 1 and secrets.reads == 2


def test_no_secret_is_unavailable_and_nothing_is_sent(
    acquirer: FakeAcquirer, secrets: CountingSecrets
) -> None:
    connector = HttpAcquirerConnector(
        acquirer.base_url,
        timeout_s=5.0,
        credentials=SecretsManagerCredential(secrets, "payments-test/missing"),
        allow_insecure_localhost=True,
    )

    with pytest.raises(AcquirerUnavailableError) as raised:
        connector.authorize(request("4242", key="nothing"))

    assert acquirer.requests == []
    assert "payments-test/missing" not in str(raised.value)


def test_the_secret_value_never_shows_in_a_repr_or_an_error(
    acquirer: FakeAcquirer, secrets: CountingSecrets
) -> None:
    accepting(acquirer, "acq_key_someone_else")
    credential = SecretsManagerCredential(secrets, SECRET)
    connector = HttpAcquirerConnector(
        acquirer.base_url, timeout_s=5.0, credentials=credential, allow_insecure_localhost=True
    )

    with pytest.raises(AcquirerRejectedError) as raised:
        connector.authorize(request("4242", key="shown"))

    for text in (repr(credential), repr(connector), str(raised.value), repr(raised.value)):
        assert FIRST not in text


def test_a_fixed_credential_and_a_source_together_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        HttpAcquirerConnector(
            "https://acquirer.example",
            timeout_s=1.0,
            credential=FIRST,
            credentials=SecretsManagerCredential(object(), SECRET),
        )
