"""``make up``, ``make down``, ``make demo``, ``make plan/apply``: the emulator's lifecycle.

``up`` starts the emulator (once: a second ``up`` finds it by its pid file and only re-applies),
applies ``environments/local`` with the real aws provider, and prints the endpoints. ``down``
stops only the emulator that ``up`` started, with every worker process it spawned.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from local import endpoints as published_endpoints
from local.aws import emulator_env
from local.emulator import ANY_PORT, port_in_use
from local.toolchain import REPO_ROOT, terraform_env

STATE_DIR = REPO_ROOT / ".local"
PID_FILE = STATE_DIR / "emulator.pid"
LOG_FILE = STATE_DIR / "emulator.log"
LOCAL_ENV_DIR = REPO_ROOT / "environments" / "local"
if TYPE_CHECKING:
    from collections.abc import Callable

    from functions.contracts.merchants import MerchantRecord
    from functions.services.merchant_registry import MerchantRegistry

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Endpoints:
    aws_port: int
    api_port: int

    @property
    def aws(self) -> str:
        return f"http://{HOST}:{self.aws_port}"

    @property
    def api(self) -> str:
        return f"http://{HOST}:{self.api_port}"

    @classmethod
    def from_environ(cls) -> Endpoints:
        return cls(
            aws_port=int(os.environ.get("LOCAL_AWS_PORT", "4566")),
            api_port=int(os.environ.get("LOCAL_API_PORT", "8080")),
        )


def running_pid() -> int | None:
    """The pid of the emulator `up` started, if that process is still alive."""
    try:
        pid = int(PID_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    return pid if b"local.emulator" in cmdline else None


def healthy(endpoints: Endpoints) -> bool:
    return answers(endpoints.aws)


def answers(endpoint_url: str) -> bool:
    try:
        url = f"{endpoint_url}/moto-api/data.json"  # always http://127.0.0.1
        with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def spawn_emulator(
    state_dir: Path, log_path: Path, *, port: int | None = None, api_port: int | None = None
) -> subprocess.Popen[bytes]:
    """Start an emulator process in its own process group, so it can be stopped whole.

    ``port``/``api_port`` None lets the emulator bind any free port (tests, benchmarks); an
    ``api_port`` of 0 starts no local API. Read where it listens with ``local.endpoints.wait``.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    published_endpoints.forget(state_dir)  # only the file this process writes counts
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "local.emulator",
                "--host",
                HOST,
                "--port",
                ANY_PORT if port is None else str(port),
                "--state-dir",
                str(state_dir),
                "--api-port",
                ANY_PORT if api_port is None else str(api_port),
            ],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def start_emulator(endpoints: Endpoints) -> int:
    pid = running_pid()
    if pid is not None:
        print(f"emulator already running (pid {pid}) on {endpoints.aws}")
        return pid
    for port, variable in (
        (endpoints.aws_port, "LOCAL_AWS_PORT"),
        (endpoints.api_port, "LOCAL_API_PORT"),
    ):
        if port_in_use(HOST, port):
            raise SystemExit(
                f"error: port {port} is in use by another process, not by an emulator `make up` "
                f"started. Stop it, or pick another port: make up {variable}={port + 1}"
            )
    # A new emulator starts empty: state from an earlier one would describe resources it lacks.
    for stale in LOCAL_ENV_DIR.glob("terraform.tfstate*"):
        stale.unlink()
    process = spawn_emulator(
        STATE_DIR, LOG_FILE, port=endpoints.aws_port, api_port=endpoints.api_port
    )
    PID_FILE.write_text(f"{process.pid} {endpoints.aws_port}\n")
    if published_endpoints.wait(process, STATE_DIR, START_TIMEOUT_S) is not None:
        print(f"emulator started (pid {process.pid}) on {endpoints.aws}")
        return process.pid
    exited = process.poll() is not None
    stop_emulator()
    tail = "\n  ".join(LOG_FILE.read_text(errors="replace").splitlines()[-5:])
    reason = "exited at start" if exited else f"did not answer within {START_TIMEOUT_S:.0f}s"
    raise SystemExit(f"error: the emulator {reason}; the end of {LOG_FILE}:\n  {tail}")


def stop_emulator() -> bool:
    pid = running_pid()
    PID_FILE.unlink(missing_ok=True)
    if pid is None:
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.killpg(pid, signal.SIGKILL)
    for stale in [*LOCAL_ENV_DIR.glob("terraform.tfstate*"), LOCAL_ENV_DIR / "tfplan.json"]:
        stale.unlink(missing_ok=True)
    return True


def terraform(env_dir: Path, *args: str, extra_env: dict[str, str] | None = None) -> None:
    env = {**os.environ, **terraform_env(), **(extra_env or {})}
    subprocess.run(["terraform", f"-chdir={env_dir}", *args], env=env, check=True)


def apply_local(endpoints: Endpoints) -> dict[str, object]:
    env = emulator_env(endpoints.aws)
    terraform(LOCAL_ENV_DIR, "init", "-input=false", "-upgrade=false", extra_env=env)
    terraform(
        LOCAL_ENV_DIR,
        "apply",
        "-input=false",
        "-auto-approve",
        f"-var=endpoint_url={endpoints.aws}",
        extra_env=env,
    )
    return terraform_outputs(LOCAL_ENV_DIR, env)


def terraform_outputs(env_dir: Path, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        ["terraform", f"-chdir={env_dir}", "output", "-json"],
        env={**os.environ, **terraform_env(), **env},
        check=True,
        capture_output=True,
        text=True,
    )
    return {name: value["value"] for name, value in json.loads(done.stdout).items()}


def write_plan_json(endpoints: Endpoints, env_dir: Path = LOCAL_ENV_DIR) -> Path:
    """The plan of the applied local environment as JSON, for the compliance scan: values that
    HCL leaves unresolved (module outputs, default tags) are resolved there."""
    env = emulator_env(endpoints.aws)
    plan_file = STATE_DIR / "tfplan"
    STATE_DIR.mkdir(exist_ok=True)
    terraform(
        env_dir,
        "plan",
        "-input=false",
        "-lock=false",
        f"-out={plan_file}",
        f"-var=endpoint_url={endpoints.aws}",
        extra_env=env,
    )
    shown = subprocess.run(
        ["terraform", f"-chdir={env_dir}", "show", "-json", str(plan_file)],
        env={**os.environ, **terraform_env(), **env},
        check=True,
        capture_output=True,
        text=True,
    )
    target = env_dir / "tfplan.json"
    target.write_text(shown.stdout)
    return target


def cmd_up(endpoints: Endpoints) -> dict[str, object]:
    start_emulator(endpoints)
    outputs = apply_local(endpoints)
    print()
    print(f"  AWS emulator  {endpoints.aws}")
    print(f"  payment API   {endpoints.api}")
    print(f"  state machine {outputs.get('payment_state_machine_arn')}")
    print(f"  logs          {LOG_FILE.relative_to(REPO_ROOT)}")
    return outputs


def cmd_down() -> None:
    print("emulator stopped" if stop_emulator() else "no emulator started by `make up` is running")


def cmd_demo(endpoints: Endpoints, keep: bool) -> int:
    from local.demo import run_demo

    try:
        outputs = cmd_up(endpoints)
        return run_demo(endpoints.aws, outputs, endpoints.api)
    finally:
        if keep:
            print(f"\nKEEP=1: the emulator stays up on {endpoints.aws}; `make down` stops it.")
        else:
            stop_emulator()


def cmd_chaos(endpoints: Endpoints, payments: int, concurrency: int, fault_rate: float) -> int:
    from local.chaos import Stack, record, run_chaos
    from local.demo import merchant_client

    try:
        outputs = cmd_up(endpoints)
        report = run_chaos(
            merchant_client(endpoints.aws, endpoints.api, outputs),
            Stack.from_outputs(endpoints.aws, outputs),
            payments=payments,
            concurrency=concurrency,
            fault_rate=fault_rate,
        )
        report.print()
        record(report, REPO_ROOT / "bench" / "results.json")
        answers = {
            "repair_run": report.reconciliation,
            "checked_again": report.checked_again,
            "bnpl": report.bnpl_reconciliation,
        }
        (STATE_DIR / "chaos-reconciliation.json").write_text(json.dumps(answers, indent=2) + "\n")
        return 1 if report.violations else 0
    finally:
        stop_emulator()


def cmd_reconcile(endpoints: Endpoints, repair: bool) -> int:
    """Runs the deployed reconcile function once and prints its report (non-zero exit when
    anything is left unreconciled)."""
    from local.aws import emulator_client
    from local.payments_demo import print_reconciliation, reconcile

    if running_pid() is None:
        print("no emulator started by `make up` is running", file=sys.stderr)
        return 2
    outputs = terraform_outputs(LOCAL_ENV_DIR, emulator_env(endpoints.aws))
    functions = outputs["function_names"]
    assert isinstance(functions, dict)
    report = reconcile(
        emulator_client("lambda", endpoints.aws), str(functions["reconcile"]), repair=repair
    )
    failed = print_reconciliation(report)
    if repair and report.get("repaired"):
        print(f"  repaired {len(report['repaired'])}; run again to confirm")
        return 0
    return failed


def cmd_reconcile_backfill(endpoints: Endpoints, restart: bool) -> int:
    """Gives the running emulator's payments and ledger tables the reconciliation's index keys
    (functions/adapters/index_backfill.py; on AWS run that module with the tables' names)."""
    from functions.adapters.index_backfill import main as backfill
    from local.aws import emulator_client

    if running_pid() is None:
        print("no emulator started by `make up` is running", file=sys.stderr)
        return 2
    outputs = terraform_outputs(LOCAL_ENV_DIR, emulator_env(endpoints.aws))
    state = REPO_ROOT / ".local" / "reconcile-backfill.json"
    argv = [
        *("--payments-table", str(outputs["payments_table_name"])),
        *("--ledger-table", str(outputs["ledger_table_name"])),
        *("--state", str(state)),
        *(["--restart"] if restart else []),
    ]
    return backfill(argv, client=emulator_client("dynamodb", endpoints.aws))


def merchant_registry(args: argparse.Namespace, endpoints: Endpoints) -> MerchantRegistry:
    """The registry the command writes: ``--table`` in an AWS environment (the default
    credential chain, the operator's role), else environments/local's on the running emulator."""
    from functions.adapters.merchant_wiring import build_registry
    from local.api_client import local_registry

    if args.table:
        import boto3

        return build_registry(
            boto3.client("dynamodb"), args.table, args.environment, boto3.client("apigateway")
        )
    if running_pid() is None:
        raise SystemExit("error: no emulator started by `make up` is running (or pass --table)")
    outputs = terraform_outputs(LOCAL_ENV_DIR, emulator_env(endpoints.aws))
    return local_registry(endpoints.aws, outputs)


def cmd_merchant(args: argparse.Namespace, endpoints: Endpoints) -> int:
    """Onboarding and key management: no Terraform, the registry table only. ``create --json``
    prints exactly ``{"merchant_id", "api_key"}`` (other tools read that form); the key is
    shown this once."""
    import datetime as dt

    from functions.services.merchant_registry import RegistryError

    registry = merchant_registry(args, endpoints)
    try:
        if args.action == "create":
            issued = registry.create_merchant(args.id, tier=args.tier)
        elif args.action == "rotate-key":
            overlap = dt.timedelta(hours=args.overlap_hours)
            issued = registry.rotate_key(args.id, args.key_id, overlap)
        elif args.action == "attach-usage-key":
            attached = registry.attach_usage_key(args.id)
            print(
                f"{attached.merchant_id}: usage key {attached.usage_key_id} on tier {attached.tier}"
            )
            return 0
        elif args.action in STATUS_ACTIONS:
            changed = STATUS_ACTIONS[args.action](registry, args.id)
            print(
                changed.model_dump_json()
                if args.json
                else f"{changed.merchant_id}: {changed.status}"
            )
            return 0
        else:
            revoked = registry.revoke_key(args.id, args.key_id)
            print(revoked.model_dump_json() if args.json else f"revoked {revoked.prefix}")
            return 0
    except (RegistryError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(issued.credentials()))
    else:
        print(f"merchant {issued.merchant_id}: key {issued.prefix} (shown once, keep it secret)")
        print(issued.api_key)
    return 0


# A status change reaches API Gateway nodes within the authorizer's cache TTL (ADR 0008).
STATUS_ACTIONS: dict[str, Callable[[MerchantRegistry, str], MerchantRecord]] = {
    "suspend": lambda registry, merchant_id: registry.suspend(merchant_id),
    "reactivate": lambda registry, merchant_id: registry.reactivate(merchant_id),
    "close": lambda registry, merchant_id: registry.close(merchant_id),
}


def add_merchant_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    merchant = sub.add_parser("merchant", help="merchants and their secret API keys")
    actions = merchant.add_subparsers(dest="action", required=True)
    for name, text in (
        ("create", "a merchant and its first key"),
        ("rotate-key", "a new key; the old one(s) stop after --overlap-hours"),
        ("revoke-key", "a key stops working now"),
        ("suspend", "its keys are refused (403 merchant_suspended) until reactivated"),
        ("reactivate", "a suspended merchant's keys work again"),
        ("close", "its keys are refused for good"),
        ("attach-usage-key", "its API Gateway usage-plan key, if it was onboarded without one"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("--id", required=True, help="the merchant id")
        action.add_argument("--json", action="store_true", help="print JSON")
        action.add_argument("--table", help="the registry table of an AWS environment")
        action.add_argument(
            "--environment", default="dev", help="with --table: its environment (prod: live keys)"
        )
        if name in ("rotate-key", "revoke-key"):
            action.add_argument(
                "--key-id", required=name == "revoke-key", help="the key (its id, after sk_…_)"
            )
        if name == "create":
            action.add_argument(
                "--tier", default="standard", help="the usage plan (rate limits) it is put on"
            )
        if name == "rotate-key":
            action.add_argument("--overlap-hours", type=float, default=24.0)


# The plan `make plan` saves and `make apply` carries out (*.tfplan is git-ignored).
PLAN_FILE = "saved.tfplan"


def aws_credentials_problem() -> str | None:
    """Why the AWS SDK's default credential chain (the one the Terraform provider follows too:
    environment, profile or SSO session, container, instance) has nothing usable, or None."""
    import botocore.exceptions
    import botocore.session

    try:
        credentials = botocore.session.Session().get_credentials()
        if credentials is None:
            return "none found"
        # A profile's SSO session is only read here: an expired one fails now, not in init.
        credentials.get_frozen_credentials()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        return str(error)
    return None


def cmd_tf(action: str, env_name: str, endpoints: Endpoints) -> None:
    env_dir = REPO_ROOT / "environments" / env_name
    if not env_dir.is_dir():
        raise SystemExit(f"error: no environment named {env_name!r} in environments/")
    try:
        if env_name == "local" and action == "destroy":
            raise SystemExit(
                "error: environments/local goes with the emulator: `make down` stops it"
            )
        if env_name == "local":
            start_emulator(endpoints)
            env = emulator_env(endpoints.aws)
            terraform(env_dir, "init", "-input=false", extra_env=env)
            terraform(
                env_dir,
                action,
                "-input=false",
                f"-var=endpoint_url={endpoints.aws}",
                *(["-auto-approve"] if action == "apply" else []),
                extra_env=env,
            )
            return
        backend = env_dir / "backend.hcl"
        if not backend.exists():
            raise SystemExit(
                f"error: {backend.relative_to(REPO_ROOT)} is missing: apply environments/bootstrap "
                "and run `make backend-config` (or copy backend.hcl.example beside it)"
            )
        problem = aws_credentials_problem()
        if problem is not None:
            raise SystemExit(
                f"error: no usable AWS credentials for {env_name} ({problem}): sign in first, "
                "e.g. `aws sso login --profile <profile>` and `export AWS_PROFILE=<profile>`"
            )
        # apply carries out the plan a person reviewed, never a fresh one: Terraform refuses a
        # saved plan whose state has moved on since.
        saved_plan = env_dir / PLAN_FILE
        if action == "apply" and not saved_plan.exists():
            raise SystemExit(
                f"error: {saved_plan.relative_to(REPO_ROOT)} is missing: run "
                f"`make plan ENV={env_name}`, review it, then `make apply ENV={env_name}`"
            )
        terraform(env_dir, "init", "-input=false", f"-backend-config={backend.name}")
        if action == "plan":
            terraform(env_dir, "plan", "-input=false", f"-out={PLAN_FILE}")
        elif action == "destroy":
            # A destroy is planned and reviewed like any change, then applied as one.
            terraform(env_dir, "plan", "-destroy", "-input=false", f"-out={PLAN_FILE}")
            print(
                f"destroy plan saved to {saved_plan.relative_to(REPO_ROOT)}: review it above, "
                f"then `make apply ENV={env_name}` carries it out"
            )
        else:
            terraform(env_dir, "apply", "-input=false", PLAN_FILE)
            saved_plan.unlink()
    except subprocess.CalledProcessError as failed:
        # Terraform has printed its own error above; a Python traceback would bury it.
        step = failed.cmd[2] if len(failed.cmd) > 2 else "terraform"
        raise SystemExit(
            f"error: terraform {step} failed in environments/{env_name} "
            f"(exit {failed.returncode}); its error is above"
        ) from None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up")
    sub.add_parser("down")
    sub.add_parser("status")
    sub.add_parser(
        "plan-json", help="write environments/local/tfplan.json from the running emulator"
    )
    demo = sub.add_parser("demo")
    demo.add_argument("--keep", action="store_true")
    recon = sub.add_parser(
        "reconcile", help="compare payments, ledger and events on the running emulator"
    )
    recon.add_argument("--repair", action="store_true", help="apply the safe repairs")
    backfill = sub.add_parser(
        "reconcile-backfill",
        help="give items written before the reconciliation's indexes their keys (resumable)",
    )
    backfill.add_argument("--restart", action="store_true", help="ignore the saved progress")
    chaos = sub.add_parser("chaos", help="payments under injected faults, then the invariants")
    chaos.add_argument("--payments", type=int, default=10_000)
    chaos.add_argument("--concurrency", type=int, default=8)
    chaos.add_argument("--fault-rate", type=float, default=0.1)
    add_merchant_commands(sub)
    tf = sub.add_parser("tf")
    tf.add_argument("action", choices=["plan", "apply", "destroy"])
    tf.add_argument("--env", default="local")
    args = parser.parse_args(argv)
    endpoints = Endpoints.from_environ()
    if args.command == "up":
        cmd_up(endpoints)
    elif args.command == "down":
        cmd_down()
    elif args.command == "status":
        pid = running_pid()
        print(f"running (pid {pid})" if pid else "not running")
        return 0 if pid else 1
    elif args.command == "plan-json":
        if running_pid() is None:
            print("no emulator started by `make up` is running: the scan reads the HCL only")
            return 0
        print(f"wrote {write_plan_json(endpoints).relative_to(REPO_ROOT)}")
    elif args.command == "demo":
        return cmd_demo(endpoints, args.keep)
    elif args.command == "reconcile":
        return cmd_reconcile(endpoints, args.repair)
    elif args.command == "reconcile-backfill":
        return cmd_reconcile_backfill(endpoints, args.restart)
    elif args.command == "chaos":
        return cmd_chaos(endpoints, args.payments, args.concurrency, args.fault_rate)
    elif args.command == "merchant":
        return cmd_merchant(args, endpoints)
    elif args.command == "tf":
        cmd_tf(args.action, args.env, endpoints)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
