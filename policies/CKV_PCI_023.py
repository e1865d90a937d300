"""CKV_PCI_023, PCI DSS 7.2.2: lambda:InvokeFunction is granted on named functions only."""

from __future__ import annotations

import re
from typing import Any

from pci_common import strings
from pci_iam import IdentityGrantCheck

LAMBDA_INVOKE_ACTIONS = ("lambda:invokefunction", "lambda:invokewithresponsestream")


# arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]
LAMBDA_FUNCTION_ARN = re.compile(r"^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)(:.+)?$")


def _names_functions(resource: str) -> bool:
    """Whether ``resource`` names functions one by one: a function ARN whose name has no
    wildcard (a ``:*`` qualifier, any version or alias of that function, is fine). An
    unresolved reference (HCL, ``aws_lambda_function.x.arn``) names its function; the plan JSON
    resolves it and is judged there."""
    if resource == "*" or resource.startswith("arn:"):
        match = LAMBDA_FUNCTION_ARN.match(resource)
        return match is not None and not any(c in match.group(1) for c in "*?")
    return True


class LambdaInvokeNamesItsFunctions(IdentityGrantCheck):
    """CKV_PCI_023: identity policies grant ``lambda:InvokeFunction`` on named functions only.
    A function invoked directly skips what its front door checks (issue 18, finding 11: any role
    allowed to invoke the tokenize function could tokenize or describe cards for any merchant,
    bypassing the API's and the workflow's merchant binding); a ``*`` or ``function:*`` grant
    hands that to every role that holds it."""

    judged_actions = LAMBDA_INVOKE_ACTIONS
    problem = "invoke granted beyond named functions"

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_023", "7.2.2", "lambda:InvokeFunction is granted on named functions only"
        )

    def offending(self, statement: dict[str, Any], index: int) -> list[str]:
        resources = strings(statement.get("Resource")) or ["(NotResource)"]
        return [r for r in resources if not _names_functions(r)]


check = LambdaInvokeNamesItsFunctions()
