from __future__ import annotations

from collections.abc import Generator

import pytest

# The end-to-end tests share the session's emulator, started before anything is applied.
from tests.integration.conftest import _emulator_first

__all__ = ["_emulator_first"]

# The functions whose log lines explain a failed API answer (a 5xx says only "api_error").
EXPLAINING_GROUPS = (
    "/aws/lambda/payments-local-payments-api",
    "/aws/lambda/payments-local-process-payment",
    "/aws/lambda/payments-local-assess-risk",
)
TAIL_LINES = 30


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed end-to-end test carries the tail of the functions' logs in its report: the
    emulator is gone by the time anyone reads a CI log, and with it the log groups."""
    report = yield
    emulator = getattr(item, "funcargs", {}).get("emulator")
    if report.when == "call" and report.failed and emulator is not None:
        for group in EXPLAINING_GROUPS:
            try:
                lines = emulator.log_messages(group)[-TAIL_LINES:]
            except Exception as error:  # a diagnostic must never mask the failure
                lines = [f"(could not read {group}: {type(error).__name__})"]
            report.sections.append((f"log tail {group}", "\n".join(lines)))
    return report
