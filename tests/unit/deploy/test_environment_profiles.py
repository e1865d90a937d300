"""README's table of environment profiles says what each environment's terraform.tfvars sets.

The inputs (zones, retention, target throughput, quota, locks, backups) are read from the tfvars
and variables; the figures Terraform derives from them (stage throttle, WAF limit, reserved
concurrency) from the assertions of each environment's own `terraform test`, which checks them
against the plan. So a change to a profile that leaves the table behind fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hcl2.api import load as hcl_load  # bc-python-hcl2, which checkov brings

from bench.cost.__main__ import estimate_from_report

REPO = Path(__file__).resolve().parents[3]
ENVIRONMENTS = ("dev", "staging", "prod")
PROFILE_KEYS = {
    "az_count",
    "log_retention_days",
    "capacity",
    "audit_object_lock",
    "backup",
    "slo",
}


def unwrap(value: Any) -> Any:
    """This HCL parser wraps each attribute's value in a one-element list."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def tfvars(env: str) -> dict[str, Any]:
    with (REPO / "environments" / env / "terraform.tfvars").open() as f:
        return {k: unwrap(v) for k, v in hcl_load(f).items()}


def variables(env: str) -> dict[str, dict[str, Any]]:
    with (REPO / "environments" / env / "variables.tf").open() as f:
        blocks = hcl_load(f)["variable"]
    return {name: body for block in blocks for name, body in block.items()}


def sized_figures(env: str) -> dict[str, int]:
    """The figures the environment's terraform test asserts its plan sizes."""
    text = (REPO / "environments" / env / "tests" / "environment.tftest.hcl").read_text()
    found = {
        name: int(value) for name, value in re.findall(r"output\.capacity\.(\w+) == (\d+)", text)
    }
    assert set(found) == {
        "reserved_concurrency_total",
        "api_rate_limit_per_second",
        "waf_rate_limit_per_5_minutes",
    }, f"environments/{env}'s test must assert the sized figures"
    return found


def readme_table() -> dict[str, dict[str, str]]:
    """Row label => environment => cell, from README's profiles block."""
    text = (REPO / "README.md").read_text()
    block = text.split("<!-- BEGIN_PROFILES -->")[1].split("<!-- END_PROFILES -->")[0]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in block.strip().splitlines()
    ]
    header, body = rows[0], rows[2:]
    return {row[0]: dict(zip(header[1:], row[1:], strict=True)) for row in body}


def fixed_floor(env: str) -> str:
    """The environment's fixed monthly floor in the committed cost report (`make cost`)."""
    report = json.loads((REPO / "bench" / "cost" / "report.json").read_text())
    usd = estimate_from_report(report).fixed_monthly(env)
    return f"{usd:,.2f} ({report['region']}, prices {report['prices_version']})"


def expected_row(env: str) -> dict[str, str]:
    values = tfvars(env)
    declared = variables(env)
    lock = values["audit_object_lock"]
    backup = values["backup"]
    figures = sized_figures(env)
    if backup["enabled"]:
        backups = f"daily, kept {backup['retention_days']} days, " + (
            f"vault lock COMPLIANCE after {backup['vault_lock_changeable_for_days']} days"
            if backup.get("vault_lock_changeable_for_days") is not None
            else "vault lock GOVERNANCE"
        )
    else:
        backups = "off"
    simulated_guard = "allow_simulated_card_network_in_prod" in declared
    return {
        "availability zones (`az_count`)": str(values["az_count"]),
        "log retention, days (`log_retention_days`)": str(values["log_retention_days"]),
        "target API requests/s (`capacity.requests_per_second`)": str(
            values["capacity"]["requests_per_second"]
        ),
        "stage throttle, requests/s (burst twice)": str(figures["api_rate_limit_per_second"]),
        "WAF limit per IP address, per 5 minutes": str(figures["waf_rate_limit_per_5_minutes"]),
        "reserved Lambda concurrency, of the account's quota": (
            f"{figures['reserved_concurrency_total']} of "
            f"{values['capacity']['lambda_concurrency_quota']}"
        ),
        "audit archive Object Lock (`audit_object_lock`)": (
            f"{lock['mode']}, {lock['retention_days']} days"
        ),
        "`terraform destroy` empties the audit buckets (`audit_force_destroy`)": (
            "yes" if values.get("audit_force_destroy", False) else "no"
        ),
        "AWS Backup of the vault and ledger tables (`backup`)": backups,
        "security alarm subscribers (`alarm_subscriptions`)": (
            "optional" if "default" in declared["alarm_subscriptions"] else "required"
        ),
        "simulated acquirer and 3-D Secure server": "refused" if simulated_guard else "allowed",
        "acquirer (`acquirer_connector`)": str(
            values.get("acquirer_connector", unwrap(declared["acquirer_connector"]["default"]))
        ),
        "fixed monthly floor, USD (`make cost`)": fixed_floor(env),
        "SLO: availability, p99 latency (`slo`)": (
            f"{float(values['slo']['availability_percent']):.1f} %, "
            f"{values['slo']['latency_p99_ms']} ms"
        ),
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_environment_sets_its_whole_profile_in_its_tfvars(env: str) -> None:
    assert set(tfvars(env)) >= PROFILE_KEYS


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_readme_table_says_what_the_tfvars_set(env: str) -> None:
    table = readme_table()
    assert {label: cells[env] for label, cells in table.items()} == expected_row(env)


def test_the_profiles_differ_where_they_should() -> None:
    dev, prod = tfvars("dev"), tfvars("prod")
    assert dev["audit_object_lock"]["mode"] == "GOVERNANCE"
    assert dev["audit_object_lock"]["retention_days"] < 365
    assert prod["audit_object_lock"] == {"mode": "COMPLIANCE", "retention_days": 365}
    assert prod["backup"]["enabled"] and not dev["backup"]["enabled"]
    assert prod["capacity"]["requests_per_second"] > dev["capacity"]["requests_per_second"]
    assert prod["az_count"] == 3
