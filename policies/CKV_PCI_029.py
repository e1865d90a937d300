"""CKV_PCI_029, PCI DSS 7.2.2: A configuration with cardholder data has IAM Access Analyzer
report access granted from outside the account."""

from __future__ import annotations

from pci_common import Graph, RootServiceCheck, root_service, strings

# An analyzer whose zone of trust is the account or the organisation reports external access;
# the unused-access types report something else.
EXTERNAL_ACCESS = frozenset({"ACCOUNT", "ORGANIZATION"})


class AccessAnalyzerWatchesExternalAccess(RootServiceCheck):
    """CKV_PCI_029: least privilege (7.2.2) is watched where no scan of this code can see it:
    a bucket, key, role, queue or function policy changed later to grant another account or the
    public access is a finding of an external-access analyzer."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_029",
            "7.2.2",
            "A configuration with cardholder data has IAM Access Analyzer report external access",
        )

    def missing(self, graph: Graph) -> tuple[list[str], bool]:
        analyzers, undecided = root_service(graph, "aws_accessanalyzer_analyzer")
        # the type defaults to ACCOUNT when unset
        types = {(strings(a.attrs.get("type")) or ["ACCOUNT"])[0] for a in analyzers}
        if types & EXTERNAL_ACCESS:
            return [], False
        unrendered = any(not t.isupper() for t in types)
        return [
            "an external-access analyzer (aws_accessanalyzer_analyzer, type ACCOUNT or "
            "ORGANIZATION)"
        ], undecided or unrendered


check = AccessAnalyzerWatchesExternalAccess()
