"""``make collect-bnpl``: one BNPL collections run on the running emulator, as the schedule
runs it on AWS (the emulator delivers no scheduled events): the deployed bnpl function invoked
with ``{"action": "collect"}`` (``--today`` to run as of another day), its report printed."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from local.aws import emulator_client, emulator_env
from local.cli import LOCAL_ENV_DIR, Endpoints, running_pid, terraform_outputs


def collect(lambda_client: Any, function_name: str, today: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"action": "collect"}
    if today:
        payload["today"] = today
    response = lambda_client.invoke(FunctionName=function_name, Payload=json.dumps(payload))
    body = json.loads(response["Payload"].read() or b"{}")
    if response.get("FunctionError"):
        raise RuntimeError(f"collections failed: {body}")
    report: dict[str, Any] = body
    return report


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="collect-bnpl", description=__doc__)
    parser.add_argument("--today", help="YYYY-MM-DD: collect what is due on that day")
    args = parser.parse_args(argv)
    endpoints = Endpoints.from_environ()
    if running_pid() is None:
        print("no emulator started by `make up` is running", file=sys.stderr)
        return 2
    outputs = terraform_outputs(LOCAL_ENV_DIR, emulator_env(endpoints.aws))
    credit = outputs["credit"]
    assert isinstance(credit, dict)
    client = emulator_client("lambda", endpoints.aws)
    print(json.dumps(collect(client, str(credit["bnpl_function_name"]), args.today), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
