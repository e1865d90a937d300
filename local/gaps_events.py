"""EventBridge delivery to CloudWatch Logs as AWS does it, where moto differs.

A rule target that is a log group may carry an input transformer whose template is exactly
``{"timestamp": <string>, "message": <string>}`` (AWS's PutTargets reference: the only template
a log group target accepts). AWS writes ``message`` as the log event and takes its time from
``timestamp``; moto writes the whole transformed object as JSON. Without this the emulator's
log holds ``{"timestamp": ..., "message": "..."}`` where AWS's holds the message alone, and a
reader written against one fails on the other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def install() -> None:
    from moto.events.models import Rule

    original = Rule._send_to_cw_log_group
    if getattr(original, "_log_event_template", False):
        return

    def send_to_cw_log_group(self: Any, name: str, event: Any) -> None:
        if not (isinstance(event, dict) and set(event) == {"timestamp", "message"}):
            original(self, name, event)
            return
        from moto.core.utils import unix_time_millis
        from moto.logs.models import logs_backends
        from moto.moto_api._internal import mock_random

        backend = logs_backends[self.account_id][self.region_name]
        stream = str(mock_random.uuid4())
        backend.create_log_stream(name, stream)
        message = event["message"]
        backend.put_log_events(
            name,
            stream,
            [
                {
                    "timestamp": _millis(event["timestamp"]) or unix_time_millis(),
                    "message": message if isinstance(message, str) else str(message),
                }
            ],
        )

    send_to_cw_log_group._log_event_template = True  # type: ignore[attr-defined]
    setattr(Rule, "_send_to_cw_log_group", send_to_cw_log_group)  # noqa: B010


def _millis(timestamp: Any) -> int | None:
    """An event's ``time`` as epoch milliseconds: ISO 8601 as on AWS, or the epoch seconds
    moto keeps in its events; None when it is neither."""
    text = str(timestamp)
    try:
        return int(float(text) * 1000)
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(parsed.timestamp() * 1000)
