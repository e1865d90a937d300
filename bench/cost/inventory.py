"""The fixed monthly floor's quantities, counted from each environment's own Terraform plan.

``terraform plan`` of environments/dev or prod needs AWS credentials; ``terraform test`` with a
mocked aws provider plans the same root module offline. Each environment is planned that way
(``-verbose -json`` hands back the plan's ``resource_changes``) and counted: interface endpoints
and the Availability Zones they sit in, NAT gateways, KMS keys, WAF web ACLs and their rules,
CloudWatch alarms, trails, on-demand Kinesis streams, Network Firewall endpoints, and which
resources the trails record data events for. The counts are
written to ``inventory.json`` (committed; ``make cost`` refreshes it, ``make bench`` reads it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from local.toolchain import terraform_env

REPO_ROOT = Path(__file__).resolve().parents[2]
INVENTORY_PATH = Path(__file__).resolve().parent / "inventory.json"
ENVIRONMENTS = ("dev", "staging", "prod")

TEST_FILE = """\
mock_provider "aws" {{
  mock_data "aws_availability_zones" {{
    defaults = {{ names = ["{region}a", "{region}b", "{region}c"] }}
  }}
  # Every interface endpoint service offered in every zone (modules/network intersects them).
  mock_data "aws_vpc_endpoint_service" {{
    defaults = {{ availability_zones = ["{region}a", "{region}b", "{region}c"] }}
  }}
  mock_data "aws_caller_identity" {{
    defaults = {{ account_id = "{account_id}" }}
  }}
  mock_data "aws_region" {{
    defaults = {{ id = "{region}", name = "{region}" }}
  }}
  mock_data "aws_partition" {{
    defaults = {{ partition = "aws" }}
  }}
  # A policy document's JSON is checked by the resources that take it: a random string is not.
  mock_data "aws_iam_policy_document" {{
    defaults = {{ json = "{{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[]}}" }}
  }}
}}

variables {{
  lambda_package = "{package}"{guard}
}}

{overrides}
run "inventory" {{
  command = plan
  module {{
    source = "{source}"
  }}
}}
"""


def _tfvars(env_dir: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (env_dir / "terraform.tfvars").read_text().splitlines():
        key, _, value = line.partition("=")
        if _ and key.strip() in ("account_id", "region"):
            values[key.strip()] = value.strip().strip('"')
    return values


def _plan(env: str, overrides: str = "") -> list[dict[str, Any]]:
    env_dir = REPO_ROOT / "environments" / env
    tfvars = _tfvars(env_dir)
    with tempfile.TemporaryDirectory(prefix=f"cost-{env}-") as tmp:
        work = Path(tmp)
        (work / "tests").mkdir()
        (work / "main.tf").write_text("")
        package = work / "package.zip"
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("placeholder", "")
        (work / "tests" / "inventory.tftest.hcl").write_text(
            TEST_FILE.format(
                region=tfvars.get("region", "eu-west-1"),
                account_id=tfvars.get("account_id", "111111111111"),
                package=package,
                source=os.path.relpath(env_dir, work),
                overrides=overrides,
                # prod refuses to plan with the simulated card network, the only one its tfvars
                # can name so far. The guard is a validation and changes no resource, so the
                # override prices exactly what prod deploys.
                guard=("\n  allow_simulated_card_network_in_prod = true" if env == "prod" else ""),
            )
        )
        terraform = shutil.which("terraform") or "terraform"
        tf_env = {**os.environ, **terraform_env()}
        subprocess.run(
            [terraform, "init", "-backend=false", "-input=false"],
            cwd=work,
            check=True,
            capture_output=True,
            env=tf_env,
        )
        run = subprocess.run(
            [terraform, "test", "-verbose", "-json", f"-var-file={env_dir / 'terraform.tfvars'}"],
            cwd=work,
            capture_output=True,
            text=True,
            env=tf_env,
        )
    for line in run.stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "test_plan":
            return list(message["test_plan"]["resource_changes"])
    raise RuntimeError(f"terraform test planned nothing for environments/{env}:\n{run.stdout}")


# The resource types a trail's data-event selector names by ARN, the attribute holding the
# name, and the ARNs AWS gives them. An override makes every other computed attribute a random
# string, so the ARNs other modules validate (a function's invoke ARN) are set too.
_ARN_FORMS: dict[str, tuple[str, dict[str, str]]] = {
    "aws_dynamodb_table": (
        "name",
        {"arn": "arn:aws:dynamodb:{region}:{account}:table/{name}"},
    ),
    "aws_lambda_function": (
        "function_name",
        {
            "arn": "arn:aws:lambda:{region}:{account}:function:{name}",
            "invoke_arn": "arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/"
            "arn:aws:lambda:{region}:{account}:function:{name}/invocations",
            "qualified_arn": "arn:aws:lambda:{region}:{account}:function:{name}:1",
            "qualified_invoke_arn": "arn:aws:apigateway:{region}:lambda:path/2015-03-31/"
            "functions/arn:aws:lambda:{region}:{account}:function:{name}:1/invocations",
        },
    ),
}


def arn_overrides(resources: list[dict[str, Any]], region: str, account: str) -> str:
    """``override_resource`` blocks that give every table and function the ARNs AWS would.

    A mocked plan leaves each ARN unknown, so a trail's data-event selectors list nulls. An
    override applies to every instance of its target, so a resource with more than one
    instance keeps its unknown ARN; ``count()`` refuses a scope that still has one."""
    by_target: dict[str, list[dict[str, str]]] = {}
    for resource in resources:
        form = _ARN_FORMS.get(resource["type"])
        name = (resource["change"].get("after") or {}).get(form[0]) if form else None
        if form is None or not name:
            continue
        target = re.sub(r"\[[^\]]*\]", "", resource["address"])
        values = {
            k: v.format(region=region, account=account, name=name) for k, v in form[1].items()
        }
        by_target.setdefault(target, []).append(values)
    blocks = [
        f"override_resource {{\n  target = {target}\n  override_during = plan\n  values = {{\n"
        + "".join(f'    {key} = "{value}"\n' for key, value in instances[0].items())
        + "  }\n}\n"
        for target, instances in sorted(by_target.items())
        if len(instances) == 1
    ]
    return "\n".join(blocks)


def plan_resources(env: str) -> list[dict[str, Any]]:
    """The resource changes of environments/<env>, planned offline with a mocked provider:
    once to learn the names, once more with each table's and function's ARN made known."""
    tfvars = _tfvars(REPO_ROOT / "environments" / env)
    first = _plan(env)
    overrides = arn_overrides(
        first, tfvars.get("region", "eu-west-1"), tfvars.get("account_id", "111111111111")
    )
    return _plan(env, overrides)


def _selected(trail: dict[str, Any]) -> dict[str, list[str]]:
    """Resource names whose data events the trail records, by service; ["*"] for all."""
    scope: dict[str, list[str]] = {}
    for selector in trail.get("advanced_event_selector") or []:
        fields = {f["field"]: f for f in selector.get("field_selector") or []}
        if (fields.get("eventCategory") or {}).get("equals") != ["Data"]:
            continue
        resource_type = ((fields.get("resources.type") or {}).get("equals") or [""])[0]
        service = {"AWS::DynamoDB::Table": "dynamodb", "AWS::Lambda::Function": "lambda"}.get(
            resource_type, resource_type
        )
        arns = fields.get("resources.ARN")
        names = ["*"]
        if arns is not None:
            values = (arns.get("equals") or []) + (arns.get("starts_with") or [])
            if any(v is None for v in values):
                raise ValueError(
                    f"trail selector {selector.get('name')!r} names an ARN the plan does not "
                    "know: its data events cannot be priced"
                )
            names = [str(v).rsplit(":", 1)[-1].rsplit("/", 1)[-1] for v in values]
        scope.setdefault(service, []).extend(names)
    return scope


def _common_prefix(names: list[str]) -> str:
    """The environment's name prefix: the dash-separated words every table name starts with."""
    if not names:
        return ""
    words = [name.split("-") for name in names]
    common: list[str] = []
    for group in zip(*words, strict=False):
        if len(set(group)) != 1:
            break
        common.append(group[0])
    return "-".join(common[: min(len(w) for w in words) - 1])


def count(resources: list[dict[str, Any]]) -> dict[str, Any]:
    created = [r for r in resources if "create" in r["change"]["actions"]]
    types = Counter(r["type"] for r in created)
    after = [(r["type"], r["change"].get("after") or {}) for r in created]
    azs = {a.get("availability_zone") for t, a in after if t == "aws_subnet"} - {None}
    interface = [a for t, a in after if t == "aws_vpc_endpoint"]
    interface = [a for a in interface if a.get("vpc_endpoint_type") == "Interface"]
    trails = [a for t, a in after if t == "aws_cloudtrail"]
    scope: dict[str, list[str]] = {}
    for trail in trails:
        for service, names in _selected(trail).items():
            scope.setdefault(service, []).extend(names)
    tables = [a.get("name") for t, a in after if t == "aws_dynamodb_table"]
    prefix = _common_prefix([str(n) for n in tables if n])
    logical = {
        service: sorted({n.removeprefix(f"{prefix}-") if prefix else n for n in names})
        for service, names in scope.items()
    }
    return {
        "availability_zones": len(azs),
        "interface_endpoints": len(interface),
        "interface_endpoint_azs": len(interface) * len(azs),
        "nat_gateways": types["aws_nat_gateway"],
        "kms_keys": types["aws_kms_key"],
        "waf_web_acls": types["aws_wafv2_web_acl"],
        "waf_rules": sum(len(a.get("rule") or []) for t, a in after if t == "aws_wafv2_web_acl"),
        "alarms": types["aws_cloudwatch_metric_alarm"],
        "trails": types["aws_cloudtrail"],
        # On-demand streams bill a stream-hour each, whatever the traffic.
        "kinesis_on_demand_streams": sum(
            1
            for t, a in after
            if t == "aws_kinesis_stream"
            and any(m.get("stream_mode") == "ON_DEMAND" for m in a.get("stream_mode_details") or [])
        ),
        # Billed per endpoint-hour; each zone the firewall maps is one endpoint.
        "firewall_endpoints": sum(
            len(a.get("subnet_mapping") or [])
            for t, a in after
            if t == "aws_networkfirewall_firewall"
        ),
        "data_event_scope": logical,
        "resources_planned": len(created),
    }


LAKE_SCHEMA = REPO_ROOT / "modules" / "data_lake" / "schema" / "payment_events.json"
LAKE_VARIABLES = REPO_ROOT / "modules" / "data_lake" / "variables.tf"


def lake_layout() -> dict[str, int]:
    """How the lake writes objects, from modules/data_lake itself: Firehose writes one object
    per partition (event date and type) each buffering interval in which the partition had
    records, so a month holds at most ``event_types`` x (seconds a month / interval) objects."""
    event_types = len(json.loads(LAKE_SCHEMA.read_text())["event_types"])
    found = re.search(
        r"interval_s\s*=\s*optional\(number,\s*([0-9]+)\)", LAKE_VARIABLES.read_text()
    )
    if found is None:
        raise ValueError(f"no buffering.interval_s default in {LAKE_VARIABLES}")
    return {"event_types": event_types, "buffer_interval_s": int(found.group(1))}


def refresh(path: Path = INVENTORY_PATH) -> dict[str, Any]:
    inventory = {env: count(plan_resources(env)) for env in ENVIRONMENTS}
    path.write_text(json.dumps(inventory, indent=2, sort_keys=True) + "\n")
    return inventory


def load(path: Path = INVENTORY_PATH) -> dict[str, Any]:
    if not path.exists():
        return refresh(path)
    return dict(json.loads(path.read_text()))
