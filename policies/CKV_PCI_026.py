"""CKV_PCI_026, PCI DSS 2.2.1: A configuration with cardholder data records every resource's
configuration with AWS Config."""

from __future__ import annotations

from pci_common import Graph, RootServiceCheck, get, is_true, root_service


class ConfigRecordsTheCde(RootServiceCheck):
    """CKV_PCI_026: the configuration standards are verified as applied on what is deployed
    (2.2.1): an AWS Config recorder of every supported resource type (global ones included),
    started, with a delivery channel, so changes are recorded and evaluated by its rules."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_026",
            "2.2.1",
            "A configuration with cardholder data records every resource's configuration "
            "with AWS Config",
        )

    def missing(self, graph: Graph) -> tuple[list[str], bool]:
        recorders, undecided = root_service(graph, "aws_config_configuration_recorder")
        channels, undecided_channel = root_service(graph, "aws_config_delivery_channel")
        statuses, undecided_status = root_service(graph, "aws_config_configuration_recorder_status")
        undecided = undecided or undecided_channel or undecided_status
        missing = []
        everything = [
            r
            for r in recorders
            if get(r.attrs, "recording_group.all_supported") in (None, True, "true")
            and is_true(get(r.attrs, "recording_group.include_global_resource_types"))
        ]
        if not everything:
            missing.append("a Config recorder of all supported resource types, global included")
        if not channels:
            missing.append("a Config delivery channel")
        if not any(is_true(get(s.attrs, "is_enabled")) for s in statuses):
            missing.append("a started Config recorder (aws_config_configuration_recorder_status)")
        return missing, undecided


check = ConfigRecordsTheCde()
