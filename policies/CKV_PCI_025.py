"""CKV_PCI_025, PCI DSS 10.4.1.1: A configuration with cardholder data enables Security Hub with
the PCI DSS v4.0.1 standard."""

from __future__ import annotations

from pci_common import Graph, RootServiceCheck, root_service, unwrap

PCI_DSS_STANDARD = "standards/pci-dss/v/4.0.1"


class SecurityHubReviewsPciDss(RootServiceCheck):
    """CKV_PCI_025: automated review of the security findings (10.4.1.1): Security Hub enabled,
    subscribed to the PCI DSS v4.0.1 standard, whose controls it evaluates continuously."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_025",
            "10.4.1.1",
            "A configuration with cardholder data enables Security Hub with the PCI DSS v4.0.1 "
            "standard",
        )

    def missing(self, graph: Graph) -> tuple[list[str], bool]:
        hubs, undecided = root_service(graph, "aws_securityhub_account")
        if not hubs:
            return ["Security Hub (aws_securityhub_account)"], undecided
        subscriptions, undecided = root_service(graph, "aws_securityhub_standards_subscription")
        arns = [str(unwrap(s.attrs.get("standards_arn"))) for s in subscriptions]
        if any(arn.endswith(PCI_DSS_STANDARD) for arn in arns):
            return [], False
        unrendered = any("::standards/" not in arn for arn in arns)
        return [f"the Security Hub subscription to {PCI_DSS_STANDARD}"], undecided or unrendered


check = SecurityHubReviewsPciDss()
