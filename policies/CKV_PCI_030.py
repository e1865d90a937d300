"""CKV_PCI_030, PCI DSS 1.3.2.

Outbound traffic from the CDE is restricted to what is necessary: a route table of the CDE or
of a CDE-connected tier never sends traffic to the internet (a NAT gateway, an internet or
egress-only gateway). The one way out is the acquirer tier's, and only through an inspection
endpoint (AWS Network Firewall's, a ``vpc_endpoint_id``), which passes the acquirer's host names
alone (docs/decisions/0010-acquirer-egress.md).
"""

from __future__ import annotations

import re
from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import (
    CDE_SCOPES,
    PciCheck,
    as_list,
    created,
    get,
    is_set,
    resolve_resources,
    tags_of,
)

# Tiers whose route tables exist to reach the internet: the public subnets (NAT gateways), the
# non-CDE egress tier and the firewall's own subnets (after inspection).
OUTBOUND_TIERS = frozenset({"public", "egress", "firewall"})
# The tier of the functions that call the acquirer: out through an inspection endpoint only.
INSPECTED_TIERS = frozenset({"acquirer"})
CONNECTED_SCOPES = frozenset({"cde-connected", "connected"})
INTERNET_GATEWAY = re.compile(r"(^igw-|aws_internet_gateway\.)")


def internet_target(route: dict[str, Any]) -> str | None:
    """How a route leaves the VPC: "nat", "internet", "inspection", or None when it does not
    (local, peering, transit or VPN gateways, an ENI): those are other requirements' business."""
    if is_set(get(route, "nat_gateway_id")):
        return "nat"
    if is_set(get(route, "egress_only_gateway_id")):
        return "internet"
    gateway = get(route, "gateway_id")
    if is_set(gateway) and INTERNET_GATEWAY.search(str(gateway)):
        return "internet"
    if is_set(get(route, "vpc_endpoint_id")):
        return "inspection"
    return None


class CdeRoutesLeaveOnlyThroughInspection(PciCheck):
    """CKV_PCI_030: no route from a CDE or CDE-connected tier to the internet, except the
    acquirer tier's through an inspection endpoint."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_030",
            "1.3.2",
            "CDE and CDE-connected route tables reach the internet only through the acquirer "
            "tier's inspection endpoint",
            ["aws_route", "aws_route_table"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if graph.me is not None and created(graph.me) is False:
            return CheckResult.UNKNOWN  # count = 0 or an empty for_each: no route at all
        if "route_table_id" not in conf:  # a route table, with its routes inline
            targets = [t for r in as_list(conf.get("route")) if (t := internet_target(r))]
            return (
                self.judge(conf, conf, targets, graph.is_root()) if targets else CheckResult.UNKNOWN
            )
        target = internet_target(conf)
        if target is None:
            return CheckResult.UNKNOWN
        table_id = get(conf, "route_table_id")
        tables, resolved = resolve_resources(graph, str(table_id), "aws_route_table")
        if not resolved or len(tables) != 1:
            return self.unresolved(conf, "its route table is an expression only a plan renders")
        return self.judge(conf, tables[0].attrs, [target], graph.is_root())

    def judge(
        self, conf: dict[str, Any], table: dict[str, Any], targets: list[str], root: bool
    ) -> CheckResult:
        tags = {k.lower(): v.lower() for k, v in tags_of(table).items()}
        tier, scope = tags.get("tier"), tags.get("pciscope")
        self.details = [
            f"route table Tier={tier} PCIScope={scope}; out through {', '.join(targets)}"
        ]
        if tier in OUTBOUND_TIERS:
            return CheckResult.PASSED
        if tier in INSPECTED_TIERS:
            return self.result(all(t == "inspection" for t in targets))
        if scope is not None and scope not in CDE_SCOPES and scope not in CONNECTED_SCOPES:
            return CheckResult.PASSED  # a tier the scope statement puts outside the CDE
        if scope is None and tier is None and not root:
            return self.unresolved(conf, "its route table's Tier and PCIScope come from the caller")
        # The CDE, a CDE-connected tier, or an untagged table in a root (in scope until shown
        # otherwise): no way out to the internet.
        return CheckResult.FAILED


check = CdeRoutesLeaveOnlyThroughInspection()
