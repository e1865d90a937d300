"""CKV_PCI_003, PCI DSS 3.6.1.4: KMS keys that protect cardholder data are single-region."""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import UNCLASSIFIED, PciCheck, data_class, get, is_chd, is_true


class NoMultiRegionCardholderKeys(PciCheck):
    """CKV_PCI_003: keys protecting cardholder data stay in one region (fewest locations)."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_003",
            "3.6.1.4",
            "KMS keys that protect cardholder data are single-region",
            ["aws_kms_key"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        chd = is_chd(conf, graph)
        if not chd and graph.me is not None and data_class(conf, graph) is None:
            # a key becomes CHD when a CHD store in the same root refers to it
            for vertex in graph.vertices:
                if any(dst == graph.me.index for dst, _ in graph._edges(vertex.index, False)):
                    attrs = vertex.attrs
                    if vertex.block_type == "resource" and is_chd(attrs, graph):
                        chd = True
                        break
        if chd is None:
            return self.unresolved(conf, UNCLASSIFIED)
        if not chd:
            return CheckResult.UNKNOWN
        return self.result(not is_true(get(conf, "multi_region")))


check = NoMultiRegionCardholderKeys()
