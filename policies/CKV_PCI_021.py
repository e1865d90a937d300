"""CKV_PCI_021, PCI DSS 3.3.1.

Functions that handle card data have no dead-letter queue or asynchronous destination.
"""

from __future__ import annotations

import re
from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import (
    UNCLASSIFIED,
    Graph,
    PciCheck,
    Vertex,
    get,
    graph_at,
    is_chd,
    is_set,
    is_true,
    unwrap,
)


def _invoke_config_functions(graph: Graph, conf: dict[str, Any]) -> list[Vertex]:
    """The functions an event invoke configuration applies to: by reference (HCL) or by the
    function name (plan JSON, where references are resolved)."""
    found = graph.targets(graph.me, "function_name") if graph.me is not None else []
    name = unwrap(conf.get("function_name"))
    if not found and is_set(name):
        found = [
            f
            for f in graph.resources("aws_lambda_function")
            if unwrap(f.attrs.get("function_name")) == name
        ]
    return [f for f in found if f.type == "aws_lambda_function"]


CONDITIONAL_ON_VARIABLE = re.compile(r"^\s*var\.(\w+)\s*\?\s*(.+?)\s*:\s*\[\s*\]\s*$", re.DOTALL)


def _calling_module_input(graph: Graph, vertex: Vertex, name: str) -> Any:
    """The value the calling ``module`` block passes for input ``name`` of the module that
    ``vertex`` lives in, or the input's declared default. Checkov renders module calls (their
    inputs are literal or resolved there) but not always the nested module's own ``var.*``
    references; this reads them."""
    parts = vertex.address.split(".")
    if len(parts) < 4 or parts[-4] != "module":
        return None
    wanted = ".".join([*parts[: len(parts) - 4], parts[-3]])
    calls = [v for v in graph.vertices if v.block_type == "module" and v.address == wanted]
    calls = [v for v in calls if v.root == vertex.root] or calls
    if calls and name in calls[0].attrs:
        return unwrap(calls[0].attrs.get(name))
    # Not passed: the variable's default, declared in the module.
    declared = ".".join([*parts[:-2], name])
    variables = [v for v in graph.vertices if v.block_type == "variable" and v.address == declared]
    variables = [v for v in variables if v.root == vertex.root] or variables
    return unwrap(variables[0].attrs.get("default")) if variables else None


def _with_module_inputs(graph: Graph, vertex: Vertex) -> dict[str, Any]:
    """``vertex``'s attributes with plain ``var.NAME`` values replaced by what the calling
    module block passes (see ``_calling_module_input``)."""
    attrs = dict(vertex.attrs)
    for key, value in vertex.attrs.items():
        text = unwrap(value)
        if isinstance(text, str) and re.fullmatch(r"var\.\w+", text):
            given = _calling_module_input(graph, vertex, text[4:])
            if given is not None:
                attrs[key] = given
    return attrs


def _has_destination(graph: Graph, conf: dict[str, Any]) -> bool | None:
    """Whether an event invoke configuration sends events to a destination: True, False, or
    None when a ``dynamic`` block's ``for_each`` cannot be resolved."""
    attrs = graph.me.attrs if graph.me is not None else conf
    dynamic = get(attrs, "dynamic.destination_config")
    if isinstance(dynamic, dict) and "for_each" in dynamic:
        for_each = dynamic.get("for_each")
        if isinstance(for_each, list | tuple | dict):  # rendered: one block per element
            return len(for_each) > 0
        expression = str(for_each)
        match = CONDITIONAL_ON_VARIABLE.match(expression)
        if match is None or graph.me is None:
            return None
        value = _calling_module_input(graph, graph.me, match.group(1))
        if isinstance(value, bool):
            return value
        return is_true(value) if isinstance(value, str) else None
    return any(
        is_set(get(conf, f"destination_config.{kind}.destination"))
        for kind in ("on_failure", "on_success")
    )


class NoAsyncDestinationOnCardDataFunctions(PciCheck):
    """CKV_PCI_021: functions that handle card data keep no failed asynchronous event: no
    ``dead_letter_config`` and no on-failure (or on-success) destination. The kept record is the
    event itself, card number and CVC included (issue 18, finding 11)."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_021",
            "3.3.1",
            "Functions that handle card data have no dead-letter queue or asynchronous destination",
            ["aws_lambda_function", "aws_lambda_function_event_invoke_config"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if self.entity_type == "aws_lambda_function":
            attrs = _with_module_inputs(graph, graph.me) if graph.me is not None else conf
            if (outside := self.outside_cardholder_data(conf, graph, attrs)) is not None:
                return outside
            kept = is_set(get(conf, "dead_letter_config.target_arn"))
            self.details = ["dead_letter_config keeps failed events"] if kept else []
            return self.result(not kept)
        functions = _invoke_config_functions(graph, conf)
        classes = [is_chd(_with_module_inputs(graph, f), graph_at(graph, f)) for f in functions]
        if not any(classes):
            if None in classes:
                return self.unresolved(conf, UNCLASSIFIED)
            return CheckResult.UNKNOWN
        destination = _has_destination(graph, conf)
        if destination is None:
            # judged where the configuration renders (plan JSON); here it is not a pass
            return self.unresolved(
                conf, "dynamic destination_config whose for_each is not rendered"
            )
        self.details = (
            ["asynchronous destination (on-failure or on-success)"] if destination else []
        )
        return self.result(not destination)


check = NoAsyncDestinationOnCardDataFunctions()
