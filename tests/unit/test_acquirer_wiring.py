"""Which acquirer a payment function talks to is the environment's choice (ACQUIRER_CONNECTOR):
the simulator, or the HTTP connector at ACQUIRER_BASE_URL with its token in the Secrets Manager
secret ACQUIRER_CREDENTIAL_SECRET_ARN (functions.adapters.payment_wiring)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from functions.adapters import clients
from functions.adapters import payment_wiring as wiring
from functions.adapters.acquirer_http import HttpAcquirerConnector
from functions.domain.acquirer import AcquirerSimulator

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:payments-dev/acquirer-AbCdEf"


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("PAYMENTS_TABLE_NAME", "payments-dev-payments")
    wiring.clear()
    clients.clear()
    yield
    wiring.clear()
    clients.clear()


def test_the_simulator_is_the_default() -> None:
    assert isinstance(wiring.acquirer(), AcquirerSimulator)


def test_http_selects_the_connector_with_its_secret_and_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACQUIRER_CONNECTOR", "http")
    monkeypatch.setenv("ACQUIRER_BASE_URL", "https://acquirer.example/v1")
    monkeypatch.setenv("ACQUIRER_CREDENTIAL_SECRET_ARN", SECRET_ARN)
    monkeypatch.setenv("ACQUIRER_TIMEOUT_MS", "2500")

    connector = wiring.acquirer()

    assert isinstance(connector, HttpAcquirerConnector)
    assert repr(connector) == (
        "HttpAcquirerConnector(base_url='https://acquirer.example/v1', timeout_s=2.5)"
    )
    assert repr(connector._credentials) == f"SecretsManagerCredential(secret_id='{SECRET_ARN}')"


def test_http_without_a_base_url_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACQUIRER_CONNECTOR", "http")

    with pytest.raises(RuntimeError, match="ACQUIRER_BASE_URL"):
        wiring.acquirer()


def test_an_unknown_connector_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACQUIRER_CONNECTOR", "stripe")

    with pytest.raises(ValidationError, match="acquirer_connector"):
        wiring.acquirer()


def test_settle_reads_its_batches_from_the_http_acquirer(monkeypatch: pytest.MonkeyPatch) -> None:
    """With http, the settle function's source is the acquirer's API, not the simulator's
    record (which holds nothing on a real deployment)."""
    from functions.handlers import settle

    monkeypatch.setenv("ACQUIRER_CONNECTOR", "http")
    monkeypatch.setenv("ACQUIRER_BASE_URL", "https://acquirer.example/v1")

    assert isinstance(settle.settlement_source(), HttpAcquirerConnector)
