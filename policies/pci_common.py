"""What the PCI DSS checks share: reading checkov's values and graph, and deciding scope.

Checkov loads every ``.py`` file of ``policies/`` as a module named after the file, with the
folder on ``sys.path``, so the checks import these helpers as ``pci_common`` (and the IAM
statement readers as ``pci_iam``), the way checkov's own checks import ``checkov.common``.

How things are recognised (see ``policies/README.md``):

* cardholder data (CHD): the ``DataClass`` tag, read from the resource's ``tags``, its plan-time
  ``tags_all`` or the ``default_tags`` of the provider in the same root, is one of
  :data:`CHD_CLASSES`; without it ``PCIScope`` decides; with neither, a resource is in scope in
  a root and unresolved in a reusable module scanned on its own.
* a *root* is a directory that declares a ``provider`` block (or a plan JSON). Rules about a
  whole configuration (tags, VPC endpoints, CloudTrail coverage, HMAC key) are judged only in
  roots; a reusable module scanned on its own gets no result for them, its instantiation in an
  environment does.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from checkov.common.bridgecrew.severities import Severities
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from checkov.terraform.checks.resource.registry import resource_registry

GUIDE = (
    "https://github.com/aws-payments-blueprint/aws-payments-blueprint/blob/main/policies/README.md"
)
CHD_CLASSES = frozenset({"cardholder-data", "chd", "pan", "card-data"})
AUDIT_CLASSES = frozenset({"audit", "audit-logs", "audit-log", "logs"})
CDE_SCOPES = frozenset({"cde", "in-scope", "in_scope", "yes", "true"})
NOT_CLASSIFIED = frozenset({"", "unclassified", "unknown", "tbd"})
AWS_MANAGED_ALIAS = "alias/aws/"
MODULE_PREFIX = re.compile(r"(module\.[\w-]+(\[[^\]]*\])?\.)*")

# Checkov keeps no record of a check that answers UNKNOWN, so "nothing in scope" and "could not
# read the value" look the same in its reports. A check that could not evaluate an in-scope
# resource says so on this logger (a warning, visible when checkov runs by hand); the compliance
# scan collects these records and reports them per requirement, so none passes in silence.
UNRESOLVED_LOGGER = "pci_policies.unresolved"


def unwrap(value: Any) -> Any:
    """Checkov wraps HCL attribute values in one-element lists; undo that."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def get(conf: Any, path: str) -> Any:
    """``get(conf, "a.b.c")`` through checkov's list-wrapped blocks; ``None`` when absent."""
    node = conf
    for part in path.split("."):
        node = unwrap(node)
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return unwrap(node)


def as_list(value: Any) -> list[Any]:
    value = unwrap(value)
    if value is None:
        return []
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return [value]


def is_true(value: Any) -> bool:
    value = unwrap(value)
    return value is True or (isinstance(value, str) and value.lower() == "true")


def as_int(value: Any) -> int | None:
    value = unwrap(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def is_set(value: Any) -> bool:
    value = unwrap(value)
    return value not in (None, "", [], {})


def is_cmk(value: Any) -> bool:
    """A key reference that is set and is not an AWS-managed alias such as alias/aws/s3."""
    value = unwrap(value)
    return is_set(value) and AWS_MANAGED_ALIAS not in str(value)


def tag_dict(value: Any) -> dict[str, str]:
    value = unwrap(value)
    if not isinstance(value, dict):
        return {}
    return {str(k): str(unwrap(v)) for k, v in value.items() if not str(k).startswith("__")}


@dataclass
class Vertex:
    index: int
    attrs: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.attrs.get("resource_type", ""))

    @property
    def block_type(self) -> str:
        return str(self.attrs.get("block_type_", ""))

    @property
    def address(self) -> str:
        return str(self.attrs.get("__address__", ""))

    @property
    def module(self) -> str:
        """The address of the module the resource is in ("" at the root)."""
        return MODULE_PREFIX.match(self.address).group(0).rstrip(".")  # type: ignore[union-attr]

    @property
    def local(self) -> str:
        """The address inside its module: ``type.name`` and any index."""
        return self.address[MODULE_PREFIX.match(self.address).end() :]  # type: ignore[union-attr]

    @functools.cached_property
    def root(self) -> str:
        crumbs = (self.attrs.get("rendering_breadcrumbs_") or {}).get("source_module_") or []
        path = crumbs[0].get("path") if crumbs and isinstance(crumbs[0], dict) else None
        return os.path.dirname(str(path or self.attrs.get("file_path_", "")))

    @property
    def is_plan(self) -> bool:
        return str(self.attrs.get("file_path_", "")).endswith(".json")


def _same_config(vertex: Vertex, conf: dict[str, Any]) -> bool:
    config = vertex.attrs.get("config_")
    if not isinstance(config, dict):
        return False
    for by_name in config.values():
        if isinstance(by_name, dict):
            for body in by_name.values():
                if body == conf:
                    return True
    return False


def _payload(node: Any) -> dict[str, Any]:
    attrs = node[1] if isinstance(node, tuple) else node
    return attrs if isinstance(attrs, dict) else {}


# What is derived from one checkov graph (its vertex list, the locals by address, the statements
# module calls pass) is computed once per graph, not once per check and resource: every check
# builds a Graph view, and the IAM checks read the same module inputs five times over.
# Checkov executes this file afresh each time it loads the folder, and checks imported before
# that keep the earlier copy: the memo lives on checkov's resource registry, which every copy
# shares, so the checks of both copies compute a graph's facts once.
MEMO_ATTRIBUTE = "_pci_graph_memo"


def _memo_for(raw: Any) -> dict[str, Any]:
    memo: dict[str, Any] | None = getattr(resource_registry, MEMO_ATTRIBUTE, None)
    if memo is None:
        memo = {"graph": None, "values": {}}
        setattr(resource_registry, MEMO_ATTRIBUTE, memo)
    if memo["graph"] is not raw:
        memo["graph"] = raw
        memo["values"] = {}
    values: dict[str, Any] = memo["values"]
    return values


class Graph:
    """The checkov graph of the configuration being scanned, seen from one resource."""

    def __init__(self, conf: dict[str, Any], entity_path: str) -> None:
        self.raw = resource_registry.graph
        self.memo = _memo_for(self.raw)
        if "vertices" not in self.memo:
            vertices: list[Vertex] = []
            if self.raw is not None:
                if hasattr(self.raw, "node_indices"):  # rustworkx: (index, attributes) payloads
                    vertices = [Vertex(i, _payload(self.raw[i])) for i in self.raw.node_indices()]
                else:  # networkx
                    vertices = [Vertex(i, a) for i, a in self.raw.nodes(data=True)]
            self.memo["vertices"] = vertices
        self.vertices: list[Vertex] = self.memo["vertices"]
        self.me = self._find(conf, entity_path)

    def _find(self, conf: dict[str, Any], entity_path: str) -> Vertex | None:
        scanned = entity_path.split(":", 1)[0].replace("\\", "/")
        suffix = "/".join(p for p in scanned.split("/") if p not in ("", ".", ".."))
        start = unwrap(conf.get("__start_line__"))
        if "resources_by_address" not in self.memo:
            index: dict[str, list[Vertex]] = {}
            for vertex in self.vertices:
                if vertex.block_type == "resource":
                    index.setdefault(vertex.address, []).append(vertex)
            self.memo["resources_by_address"] = index
        candidates = [
            v
            for v in self.memo["resources_by_address"].get(str(conf.get("__address__")), [])
            if v.attrs.get("__start_line__") == start
        ]
        candidates = [
            v
            for v in candidates
            if str(v.attrs.get("file_path_", "")).replace("\\", "/").endswith(suffix)
        ] or candidates
        if len(candidates) > 1:
            # one module file instantiated under the same address in several roots: the
            # rendered configuration tells the instances apart when their inputs differ
            same = [v for v in candidates if _same_config(v, conf)]
            candidates = same or candidates
        return candidates[0] if candidates else None

    # scope ------------------------------------------------------------------
    def in_scope(self) -> list[Vertex]:
        """Vertices of the same root as the resource under check."""
        if self.me is None:
            return []
        by_root: dict[str, list[Vertex]] = self.memo.setdefault("by_root", {})
        root = self.me.root
        if root not in by_root:
            by_root[root] = [v for v in self.vertices if v.root == root]
        return by_root[root]

    def providers(self) -> list[Vertex]:
        if self.me is None:
            return []
        by_root: dict[str, list[Vertex]] = self.memo.setdefault("providers", {})
        root = self.me.root
        if root not in by_root:
            by_root[root] = [v for v in self.in_scope() if v.block_type == "provider"]
        return by_root[root]

    def is_root(self) -> bool:
        """The resource is evaluated inside a root module (provider declared) or a plan."""
        return self.me is not None and (self.me.is_plan or bool(self.providers()))

    def root_note(self) -> list[str]:
        """Where a configuration-wide rule was judged (a module's file is not its root)."""
        if self.me is None:
            return []
        root = self.me.root
        with contextlib.suppress(ValueError):  # another drive on Windows
            root = os.path.relpath(root)
        return [f"root: {root}"]

    def resources(self, *types: str) -> list[Vertex]:
        return [v for v in self.in_scope() if v.block_type == "resource" and v.type in types]

    def default_tags(self, conf: dict[str, Any]) -> dict[str, str]:
        wanted = str(conf.get("__provider_address__") or "aws.default")
        tags: dict[str, str] = {}
        for provider in self.providers():
            address = provider.address or "aws.default"
            alias = unwrap(provider.attrs.get("alias"))
            if alias:
                address = f"aws.{alias}"
            if address == wanted or (wanted == "aws.default" and address == "aws"):
                tags.update(tag_dict(get(provider.attrs, "default_tags.tags")))
        return tags

    # edges ------------------------------------------------------------------
    def _edges(self, index: int, incoming: bool) -> Iterator[tuple[int, str]]:
        if self.raw is None:
            return
        if hasattr(self.raw, "node_indices"):
            edges = self.raw.in_edges(index) if incoming else self.raw.out_edges(index)
            for src, dst, data in edges:
                yield (src if incoming else dst), str((data or {}).get("label", ""))
        else:
            edges = (
                self.raw.in_edges(index, data=True)
                if incoming
                else self.raw.out_edges(index, data=True)
            )
            for src, dst, data in edges:
                yield (src if incoming else dst), str((data or {}).get("label", ""))

    def referrers(self, types: Iterable[str], label: str, literal_attr: str = "") -> list[Vertex]:
        """Resources of ``types`` whose attribute ``label`` refers to the resource under check.

        Falls back to comparing literal values (``literal_attr`` of this resource, e.g. the
        bucket name) for plan graphs, where references are already resolved.
        """
        if self.me is None:
            return []
        wanted = set(types)
        by_index = {v.index: v for v in self.vertices}
        found = {
            src
            for src, edge_label in self._edges(self.me.index, incoming=True)
            if edge_label.split(".")[0] == label
            and by_index.get(src, Vertex(-1, {})).type in wanted
        }
        literal = unwrap(self.me.attrs.get(literal_attr)) if literal_attr else None
        if is_set(literal):
            for vertex in self.resources(*wanted):
                if unwrap(vertex.attrs.get(label)) == literal:
                    found.add(vertex.index)
        return [by_index[i] for i in sorted(found)]

    def targets(self, vertex: Vertex, label: str) -> list[Vertex]:
        by_index = {v.index: v for v in self.vertices}
        return [
            by_index[dst]
            for dst, edge_label in self._edges(vertex.index, incoming=False)
            if edge_label.split(".")[0] == label and dst in by_index
        ]


def tags_of(conf: dict[str, Any], graph: Graph | None = None) -> dict[str, str]:
    """Effective tags: provider default_tags, then plan-time tags_all, then the resource's tags."""
    tags: dict[str, str] = dict(graph.default_tags(conf)) if graph is not None else {}
    tags.update(tag_dict(conf.get("tags_all")))
    tags.update(tag_dict(conf.get("tags")))
    return tags


def data_class(conf: dict[str, Any], graph: Graph | None) -> str | None:
    """The resource's ``DataClass``, or None when it has none or says it is not classified
    (:data:`NOT_CLASSIFIED`, what environments put in ``default_tags``): a provider-wide
    default cannot say what a resource holds, so it must not class it out of scope."""
    for key, value in tags_of(conf, graph).items():
        if key.lower() == "dataclass":
            cls = value.strip().lower()
            return None if cls in NOT_CLASSIFIED else cls
    return None


def pci_scope(conf: dict[str, Any], graph: Graph | None) -> str | None:
    for key, value in tags_of(conf, graph).items():
        if key.lower() == "pciscope":
            return value.strip().lower()
    return None


UNCLASSIFIED = (
    "no DataClass or PCIScope tag here: the root that uses this module decides whether it "
    "holds card data"
)


def is_chd(conf: dict[str, Any], graph: Graph | None) -> bool | None:
    """Whether a resource holds (or handles) cardholder data, from its tags only.

    ``DataClass`` decides; without it, ``PCIScope`` does (``cde`` is in scope, anything else is
    not). A resource with neither is in scope in a root (PCI DSS scoping: in scope until shown
    otherwise, so Terraform written without our tags is still judged), and unknown (None) in a
    reusable module scanned on its own, whose tags come from its caller.
    """
    cls = data_class(conf, graph)
    if cls is not None:
        return cls in CHD_CLASSES
    if _tags_unrendered(conf):
        # its own tags are an expression the HCL scan cannot read (``local.tags``): they may
        # classify it, so neither a default nor the lack of a tag decides (the plan scan does)
        return None
    scope = pci_scope(conf, graph)
    if scope is not None:
        return scope in CDE_SCOPES
    if graph is None or graph.is_root():
        return True
    return None


def _tags_unrendered(conf: dict[str, Any]) -> bool:
    tags = unwrap(conf.get("tags"))
    return isinstance(tags, str) and bool(tags.strip())


def purpose(conf: dict[str, Any], graph: Graph | None) -> str | None:
    """The ``Purpose`` tag (lowercased): what a store or key is for (vault, idempotency,
    ledger), set by the module that creates it."""
    for key, value in tags_of(conf, graph).items():
        if key.lower() == "purpose":
            return value.strip().lower()
    return None


def table_roles(conf: dict[str, Any], graph: Graph | None) -> set[str]:
    """What a DynamoDB table is, from its tags only (a renamed table keeps its checks): a table
    holding cardholder data is a vault; ``Purpose`` adds idempotency or ledger."""
    roles = {p} if (p := purpose(conf, graph)) else set()
    if data_class(conf, graph) in CHD_CLASSES:
        roles.add("vault")
    return roles


def is_audit_bucket(conf: dict[str, Any], graph: Graph | None) -> bool:
    """A bucket that holds audit logs: tagged so (``DataClass``), or the bucket a CloudTrail
    trail in the configuration writes to, whatever its tags say (10.5.1 and 10.3.2 protect
    the trail's logs wherever they land)."""
    if data_class(conf, graph) in AUDIT_CLASSES:
        return True
    if graph is None or graph.me is None:
        return False
    return bool(graph.referrers(["aws_cloudtrail"], "s3_bucket_name", literal_attr="bucket"))


def is_vault_key(conf: dict[str, Any], graph: Graph | None) -> bool:
    """The vault's KMS key: its ``Purpose`` tag is ``vault`` (as modules/kms sets it)."""
    return purpose(conf, graph) == "vault"


# A reference to a managed resource inside an expression checkov left as text, such as
# ``aws_kms_key.vault.arn`` (a module's outputs and variables are expressions, not references).
RESOURCE_REFERENCE = re.compile(r"(?<![\w.])(aws_\w+)\.([\w-]+)(\[[^\]]*\])?")
UNRESOLVED_EXPRESSION = re.compile(r"(^|[^\w])(var|local|module|each|data)\.\w|\$\{")
# arn:<partition>:<service>:<region>:<account>:<type>/<name>[/<sub-resource>...]
ARN = re.compile(r"^arn:[^:]+:(?P<service>[^:]+):[^:]*:[^:]*:(?P<rest>.+)$")


def resolve_resources(
    graph: Graph, value: str, rtype: str, module: str | None = None
) -> tuple[list[Vertex], bool]:
    """The resources of type ``rtype`` in the configuration that ``value`` (a statement's
    ``Resource`` entry) names, found by graph facts rather than by their names: a reference
    (``aws_dynamodb_table.x.arn``) is resolved in the module of the resource under check, a
    literal ARN is matched against the resources' ``arn`` or ``name``. The flag says whether
    ``value`` could be resolved at all (an expression such as ``var.table_arn`` cannot).
    ``module`` is the address of the module the value was written in, when not the resource's
    own (a statement passed in through a module call is written in the caller)."""
    if graph.me is None:
        return [], False
    match = RESOURCE_REFERENCE.search(value)
    if match is not None:
        if match.group(1) != rtype:
            return [], True
        if module is None:
            module = graph.me.module
        local = f"{rtype}.{match.group(2)}"
        index = (match.group(3) or "").replace("'", '"')

        def named(address: str) -> bool:
            address = address.replace("'", '"')
            if index:
                return address == local + index
            return address == local or address.startswith(local + "[")

        found = [v for v in graph.resources(rtype) if v.module == module and named(v.local)]
        if not found:
            # checkov renders a module output as the reference inside the module that made it
            # (aws_kms_key.symmetric["logs"].arn): that resource, in whichever module has it
            found = [v for v in graph.resources(rtype) if named(v.local)]
        return found, bool(found)
    if UNRESOLVED_EXPRESSION.search(value):
        return [], False
    arn = ARN.match(value)
    if arn is None:
        return [], True
    found = []
    for vertex in graph.resources(rtype):
        if unwrap(vertex.attrs.get("arn")) == value:
            found.append(vertex)
            continue
        name = unwrap(vertex.attrs.get("name"))
        if isinstance(name, str) and name and arn.group("rest").split("/")[1:2] == [name]:
            found.append(vertex)
    return found, True


def strings(value: Any) -> list[str]:
    return [str(v) for v in as_list(value)]


class PciCheck(BaseResourceCheck):
    """A resource check with a PCI DSS requirement, a severity and a guideline anchor."""

    requirement = ""

    def __init__(
        self, check_id: str, requirement: str, name: str, resources: Iterable[str], severity: str
    ) -> None:
        self.requirement = requirement
        super().__init__(
            name=f"[PCI DSS {requirement}] {name}",
            id=check_id,
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=list(resources),
            guideline=f"{GUIDE}#{check_id.lower()}",
        )
        self.severity = Severities[severity]  # type: ignore[assignment]  # checkov: None-typed

    def graph_for(self, conf: dict[str, Any]) -> Graph:
        return Graph(conf, self.entity_path)

    def unresolved(self, conf: dict[str, Any], reason: str) -> CheckResult:
        """The resource is in scope but a value the rule needs is unknown here (an expression
        only a plan renders): no result for checkov, a record for the compliance scan."""
        scanned_file, entity_type, entity_name = self.entity_path.rsplit(":", 2)
        record = {
            "check_id": self.id,
            "check_name": self.name,
            "resource": str(conf.get("__address__") or f"{entity_type}.{entity_name}"),
            "file": scanned_file,
            "lines": (
                as_int(conf.get("__start_line__")) or 0,
                as_int(conf.get("__end_line__")) or 0,
            ),
            "reason": reason,
        }
        logging.getLogger(UNRESOLVED_LOGGER).warning(
            "%s could not evaluate %s: %s",
            self.id,
            record["resource"],
            reason,
            extra={"pci_unresolved": record},
        )
        return CheckResult.UNKNOWN

    def outside_cardholder_data(
        self, conf: dict[str, Any], graph: Graph, attrs: dict[str, Any] | None = None
    ) -> CheckResult | None:
        """None for a resource that holds or handles card data (judge it); otherwise the answer:
        UNKNOWN when its tags say it does not, unresolved when only its caller's tags can say
        (``attrs``: the attributes to classify by, when not ``conf``'s own)."""
        chd = is_chd(conf if attrs is None else attrs, graph)
        if chd is None:
            return self.unresolved(conf, UNCLASSIFIED)
        return None if chd else CheckResult.UNKNOWN

    @staticmethod
    def result(ok: bool) -> CheckResult:
        return CheckResult.PASSED if ok else CheckResult.FAILED


def graph_at(graph: Graph, vertex: Vertex) -> Graph:
    clone = object.__new__(Graph)
    clone.raw, clone.memo, clone.vertices, clone.me = graph.raw, graph.memo, graph.vertices, vertex
    return clone


def created(vertex: Vertex) -> bool | None:
    """Whether a resource block creates anything: False for a rendered ``count = 0`` or an
    empty ``for_each``, None when either is an expression the scan could not render."""
    count = vertex.attrs.get("count")
    if count is not None:
        number = as_int(count)
        return None if number is None else number > 0
    for_each = unwrap(vertex.attrs.get("for_each"))
    if for_each is None:
        return True
    if isinstance(for_each, dict | list):
        return len(for_each) > 0
    return None


def root_service(graph: Graph, rtype: str) -> tuple[list[Vertex], bool]:
    """The ``rtype`` resources the root of the resource under check creates, and whether some
    block's ``count``/``for_each`` could not be rendered (so their absence is not known)."""
    found: list[Vertex] = []
    undecided = False
    for vertex in graph.resources(rtype):
        made = created(vertex)
        if made is None:
            undecided = True
        elif made:
            found.append(vertex)
    return found, undecided


class RootServiceCheck(PciCheck):
    """A configuration-wide rule judged at each store of cardholder data in a root: that the
    root also deploys an account-level service (GuardDuty, Security Hub, Config, Inspector).
    An account that already has the service opts out of ``modules/security_baseline`` and
    the check fails there, until the exceptions register records why (the opt-out reported)."""

    anchors: tuple[str, ...] = ("aws_dynamodb_table", "aws_s3_bucket")

    def __init__(self, check_id: str, requirement: str, name: str) -> None:
        super().__init__(check_id, requirement, name, self.anchors, "HIGH")

    def missing(self, graph: Graph) -> tuple[list[str], bool]:
        """What the root lacks of the service, and whether the answer is undecided."""
        raise NotImplementedError

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if not graph.is_root():
            return CheckResult.UNKNOWN
        if (outside := self.outside_cardholder_data(conf, graph)) is not None:
            return outside
        missing, undecided = self.missing(graph)
        self.details = [f"missing: {'; '.join(missing)}"] if missing else []
        self.details += graph.root_note()
        if missing and undecided:
            return self.unresolved(
                conf, f"{'; '.join(missing)} (a count or for_each only a plan renders)"
            )
        return self.result(not missing)
