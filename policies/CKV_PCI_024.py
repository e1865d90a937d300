"""CKV_PCI_024, PCI DSS 11.5.1: A configuration with cardholder data runs GuardDuty with S3 and
Lambda protection."""

from __future__ import annotations

from pci_common import Graph, RootServiceCheck, get, is_true, root_service, unwrap

# The protection plans that watch what the CDE is made of: S3 data events (the lake, the audit
# archive) and the Lambda functions' network activity.
FEATURES = ("S3_DATA_EVENTS", "LAMBDA_NETWORK_LOGS")


class GuardDutyWatchesTheCde(RootServiceCheck):
    """CKV_PCI_024: intrusion detection over the CDE (11.5.1; its findings feed the automated
    log review of 10.4.1.1): an enabled GuardDuty detector, with S3 and Lambda protection."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_024",
            "11.5.1",
            "A configuration with cardholder data runs GuardDuty with S3 and Lambda protection",
        )

    def missing(self, graph: Graph) -> tuple[list[str], bool]:
        detectors, undecided = root_service(graph, "aws_guardduty_detector")
        detectors = [d for d in detectors if get(d.attrs, "enable") in (None, True, "true")]
        if not detectors:
            return ["an enabled GuardDuty detector (aws_guardduty_detector)"], undecided
        features, undecided = root_service(graph, "aws_guardduty_detector_feature")
        enabled = {
            str(unwrap(f.attrs.get("name")))
            for f in features
            if str(unwrap(f.attrs.get("status"))) == "ENABLED"
        }
        unrendered = any(str(unwrap(f.attrs.get("name"))) not in FEATURES for f in features)
        # the detector's deprecated datasources block still turns S3 protection on
        if any(is_true(get(d.attrs, "datasources.s3_logs.enable")) for d in detectors):
            enabled.add("S3_DATA_EVENTS")
        return [f"GuardDuty feature {name}" for name in FEATURES if name not in enabled], (
            undecided or unrendered
        )


check = GuardDutyWatchesTheCde()
