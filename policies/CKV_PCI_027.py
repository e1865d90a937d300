"""CKV_PCI_027, PCI DSS 11.3.1: A configuration whose functions handle cardholder data has
Inspector scan them."""

from __future__ import annotations

from pci_common import Graph, RootServiceCheck, root_service, strings


class InspectorScansTheFunctions(RootServiceCheck):
    """CKV_PCI_027: internal vulnerability scanning of the CDE's compute (11.3.1, with 6.3.1's
    identification of vulnerabilities): Amazon Inspector enabled for Lambda in the account."""

    anchors = ("aws_lambda_function",)

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_027",
            "11.3.1",
            "A configuration whose functions handle cardholder data has Inspector scan them",
        )

    def missing(self, graph: Graph) -> tuple[list[str], bool]:
        enablers, undecided = root_service(graph, "aws_inspector2_enabler")
        types = {t for e in enablers for t in strings(e.attrs.get("resource_types"))}
        if "LAMBDA" in types:
            return [], False
        unrendered = any(not t.isupper() for t in types)
        return [
            "Inspector for Lambda (aws_inspector2_enabler with LAMBDA)"
        ], undecided or unrendered


check = InspectorScansTheFunctions()
