"""CKV_PCI_018, PCI DSS 12.5.1.

Taggable resources carry the DataClass, PCIScope, Owner and Environment tags.
"""

from __future__ import annotations

from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.checks_infra.resources_types import resources_types
from checkov.common.models.enums import CheckResult

from pci_common import PciCheck, tags_of

REQUIRED_TAGS = ("DataClass", "PCIScope", "Owner", "Environment")


TAGGABLE = frozenset(resources_types.get("aws_taggable", []))


class RequiredInventoryTags(PciCheck):
    """CKV_PCI_018: taggable resources carry DataClass, PCIScope, Owner and Environment."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_018",
            "12.5.1",
            "Taggable resources carry the DataClass, PCIScope, Owner and Environment tags",
            sorted(TAGGABLE),
            BcSeverities.LOW,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if not graph.is_root():
            return CheckResult.UNKNOWN  # tags of a reusable module are judged where it is used
        tags = {k.lower() for k in tags_of(conf, graph)}
        missing = [t for t in REQUIRED_TAGS if t.lower() not in tags]
        self.details = [f"missing tags: {', '.join(missing)}"] if missing else []
        self.details += graph.root_note()
        return self.result(not missing)


check = RequiredInventoryTags()
