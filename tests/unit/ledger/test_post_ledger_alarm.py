"""A ledger posting the workflow gave up on is logged so that the alarm in
modules/payment_workflow/alarms.tf fires (issue 19 item 2): the log line and the metric filter
must agree, or the alarm watches nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from functions.handlers.post_ledger import report_failure

ALARMS = Path("modules/payment_workflow/alarms.tf")


def test_a_given_up_posting_is_logged_at_error_where_the_metric_filter_looks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    report_failure(
        {
            "action": "report_failure",
            "step": "refund",
            "payment_id": "pay_1",
            "failure": {"Error": "LedgerUnavailableError", "Cause": "{}"},
        }
    )
    assert len(caplog.records) == 1
    record = caplog.records[0]
    assert record.levelname == "ERROR"
    logged = vars(record)
    assert (logged["payment_id"], logged["step"]) == ("pay_1", "refund")
    assert logged["error"] == "LedgerUnavailableError"
    pattern = re.search(r'pattern\s*=\s*"\{ \$\.(\w+) = \\"(\w+)\\" \}"', ALARMS.read_text())
    assert pattern is not None, "the metric filter pattern changed shape"
    assert logged[pattern[1]] == pattern[2]
