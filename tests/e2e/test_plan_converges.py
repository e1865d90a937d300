"""A plan made right after environments/local is applied changes nothing (issue 15).

A resource that shows a change in every plan after its apply is a perpetual diff: on AWS every
`make plan` would show changes that never settle, and the reviewer of a real change learns to
skip them. Each one is either a module bug (a value AWS normalises, a computed attribute left
unset) or the emulator answering otherwise than AWS (local/gaps_readback.py); the 13 found
when this test was written were all the emulator's (README, "How the local emulator differs").
"""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import PostApplyPlan

# What cannot settle on the emulator, by address, with the reason; nothing today.
UNSETTLED: dict[str, str] = {
    # The redrive policy read back from the emulator's SQS differs from the jsonencode'd one in
    # a way the provider's equivalent-JSON check does not absorb; not yet pinned down (the
    # webhook queues are the first in the stack with a redrive policy).
    'module.platform.module.webhooks.aws_sqs_queue.this["deliveries"]': "redrive_policy readback",
    'module.platform.module.webhooks.aws_sqs_queue.this["events"]': "redrive_policy readback",
}


def _changed(before: Any, after: Any, path: str = "") -> list[str]:
    """The attribute paths whose planned value differs from the applied one."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            p
            for key in sorted(set(before) | set(after))
            for p in _changed(before.get(key), after.get(key), f"{path}.{key}")
        ]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            p
            for i, pair in enumerate(zip(before, after, strict=True))
            for p in _changed(*pair, f"{path}[{i}]")
        ]
    return [] if before == after else [f"{path or '.'}: {before!r:.80} -> {after!r:.80}"]


def test_a_plan_after_the_apply_changes_nothing(post_apply_plan: PostApplyPlan) -> None:
    assert post_apply_plan.returncode in (0, 2), post_apply_plan.output
    changes = {
        change["address"]: change["change"]
        for change in json.loads(post_apply_plan.json_text).get("resource_changes", [])
        if change["change"]["actions"] not in (["no-op"], ["read"])
    }
    unexpected = {
        address: f"{'/'.join(change['actions'])} "
        + "; ".join(_changed(change.get("before"), change.get("after")))
        for address, change in changes.items()
        if address not in UNSETTLED
    }
    assert not unexpected, "a plan right after the apply changes:\n" + "\n".join(
        f"  {address}: {what}" for address, what in sorted(unexpected.items())
    )
    # an address listed as unsettled that now settles must leave the list
    assert set(UNSETTLED) <= set(changes), sorted(set(UNSETTLED) - set(changes))
    assert post_apply_plan.returncode == (2 if changes else 0)
