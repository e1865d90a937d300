"""PCI DSS v4.0.1 checks that need logic (checkov external checks, IDs ``CKV_PCI_###``).

Checkov loads every ``.py`` file of ``policies/`` as a stand-alone module, so everything the
checks share lives in this one file (no imports between policy files). Rules that are a plain
attribute comparison live beside it as YAML graph checks (``CKV2_PCI_###``).

How things are recognised (see ``policies/README.md``):

* cardholder data (CHD): the ``DataClass`` tag, read from the resource's ``tags``, its plan-time
  ``tags_all`` or the ``default_tags`` of the provider in the same root, is one of
  :data:`CHD_CLASSES`. Resources without any ``DataClass`` tag fall back to a naming heuristic
  (:data:`CHD_NAME`). An explicit ``DataClass`` with another value always wins over the name.
* a *root* is a directory that declares a ``provider`` block (or a plan JSON). Rules about a
  whole configuration (tags, VPC endpoints, CloudTrail coverage, HMAC key) are judged only in
  roots; a reusable module scanned on its own gets no result for them, its instantiation in an
  environment does.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities, Severities
from checkov.common.checks_infra.resources_types import resources_types
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from checkov.terraform.checks.resource.registry import resource_registry

GUIDE = (
    "https://github.com/aws-payments-blueprint/aws-payments-blueprint/blob/main/policies/README.md"
)

CHD_CLASSES = frozenset({"cardholder-data", "chd", "pan", "card-data"})
AUDIT_CLASSES = frozenset({"audit", "audit-logs", "audit-log", "logs"})
CDE_SCOPES = frozenset({"cde", "in-scope", "in_scope", "yes", "true"})
VAULT_NAME = re.compile(r"vault", re.IGNORECASE)
AUDIT_NAME = re.compile(r"(audit|cloudtrail|trail|log-archive|logarchive)", re.IGNORECASE)
DETOKENIZE_NAME = re.compile(r"detokeni[sz]", re.IGNORECASE)
REQUIRED_TAGS = ("DataClass", "PCIScope", "Owner", "Environment")
NAME_ATTRIBUTES = ("name", "bucket", "bucket_prefix", "name_prefix", "function_name", "description")
AWS_MANAGED_ALIAS = "alias/aws/"
TAGGABLE = frozenset(resources_types.get("aws_taggable", []))

# Checkov keeps no record of a check that answers UNKNOWN, so "nothing in scope" and "could not
# read the value" look the same in its reports. A check that could not evaluate an in-scope
# resource says so on this logger (a warning, visible when checkov runs by hand); the compliance
# scan collects these records and reports them per requirement, so none passes in silence.
UNRESOLVED_LOGGER = "pci_policies.unresolved"


# --------------------------------------------------------------------------- value helpers


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


def resource_label(conf: dict[str, Any]) -> str:
    address = str(conf.get("__address__", ""))
    return address.rsplit(".", 1)[-1]


def names_of(conf: dict[str, Any]) -> str:
    parts = [resource_label(conf)]
    parts += [
        str(get(conf, attribute)) for attribute in NAME_ATTRIBUTES if is_set(get(conf, attribute))
    ]
    return " ".join(parts)


# --------------------------------------------------------------------------- graph context


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
_MEMO: dict[str, Any] = {"graph": None, "values": {}}


def _memo_for(raw: Any) -> dict[str, Any]:
    if _MEMO["graph"] is not raw:
        _MEMO["graph"] = raw
        _MEMO["values"] = {}
    values: dict[str, Any] = _MEMO["values"]
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
    for key, value in tags_of(conf, graph).items():
        if key.lower() == "dataclass":
            return value.strip().lower()
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
    scope = pci_scope(conf, graph)
    if scope is not None:
        return scope in CDE_SCOPES
    if graph is None or graph.is_root():
        return True
    return None


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
    cls = data_class(conf, graph)
    if cls in AUDIT_CLASSES:
        return True
    return bool(AUDIT_NAME.search(names_of(conf)))


# --------------------------------------------------------------------------- IAM statements


def _parse_policy(value: Any) -> list[dict[str, Any]]:
    value = unwrap(value)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    if not isinstance(value, dict):
        return []
    statements = value.get("Statement", value.get("statement", []))
    statements = statements if isinstance(statements, list) else [statements]
    return [s for s in statements if isinstance(s, dict)]


def _doc_statements(vertex: Vertex) -> list[dict[str, Any]]:
    """Statements of a data.aws_iam_policy_document vertex, normalised to JSON policy keys."""
    out = []
    for raw in as_list(vertex.attrs.get("statement")):
        if not isinstance(raw, dict):
            continue
        statement: dict[str, Any] = {
            "Effect": str(unwrap(raw.get("effect")) or "Allow"),
            "Action": as_list(raw.get("actions")),
            "Resource": as_list(raw.get("resources")),
        }
        if raw.get("principals") is not None:
            statement["Principal"] = raw.get("principals")
        if raw.get("condition") is not None:
            statement["Condition"] = as_list(raw.get("condition"))
        out.append(statement)
    return out


def policy_statements(
    conf: dict[str, Any], graph: Graph, attribute: str = "policy"
) -> list[dict[str, Any]]:
    statements = _parse_policy(conf.get(attribute))
    if graph.me is not None:
        for doc in graph.targets(graph.me, attribute):
            if doc.type == "data.aws_iam_policy_document" or doc.type == "aws_iam_policy_document":
                statements += _doc_statements(doc)
    return statements


def identity_statements(
    entity_type: str, conf: dict[str, Any], graph: Graph
) -> list[dict[str, Any]]:
    """The statements of an identity policy: a role's inline policies, or the ``policy`` of an
    ``aws_iam_role_policy``/``aws_iam_policy`` (with the policy documents it references)."""
    return identity_policy(entity_type, conf, graph)[0]


def _unrendered(value: Any) -> str | None:
    """The expression text of a policy attribute checkov could not render into JSON, or None
    when it is absent or parsed."""
    value = unwrap(value)
    if value is None or isinstance(value, dict):
        return None
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
        return None
    return str(value)


def identity_policy(
    entity_type: str, conf: dict[str, Any], graph: Graph
) -> tuple[list[dict[str, Any]], list[str]]:
    """The statements of an identity policy, and what could not be read of it.

    A policy that is an expression checkov cannot render (``jsonencode`` over ``concat`` and
    ``for`` expressions, as in ``lambda_function``) is read where its statements come from: the
    statement-shaped inputs (objects with ``actions``/``Action``) that the calling ``module``
    block passes, resolved through the caller's ``locals``. Those are judged; the rest of the
    policy is returned as unresolved, so a result built on it is never a pass.
    """
    if entity_type == "aws_iam_role":
        policies = [get(p, "policy") for p in as_list(conf.get("inline_policy"))]
        statements = [s for p in policies for s in _parse_policy(p)]
        unresolved = [f"inline policy {_short(text)}" for p in policies if (text := _unrendered(p))]
    else:
        statements = policy_statements(conf, graph)
        text = _unrendered(conf.get("policy"))
        unresolved = [] if text is None or statements else [f"policy {_short(text)}"]
    if unresolved and graph.me is not None:
        passed, missing = module_input_statements(graph, graph.me)
        statements += passed
        unresolved += missing
    return statements, unresolved


def _short(text: str, limit: int = 100) -> str:
    """An expression for a report line: whitespace folded, cut at ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


STATEMENT_KEYS = {"actions", "action", "not_actions", "notaction"}
CONCAT = re.compile(r"^\$?\{?\s*concat\((.*)\)\s*\}?$", re.DOTALL)
LOCAL_REF = re.compile(r"^\$?\{?\s*local\.([\w.]+?)\s*\}?$")


def _local_value(graph: Graph, prefix: str, root: str, path: str) -> Any:
    name, *keys = path.split(".")
    address = f"{prefix}.{name}" if prefix else name
    if "locals" not in graph.memo:
        index: dict[str, list[Vertex]] = {}
        for vertex in graph.vertices:
            if vertex.block_type == "locals":
                index.setdefault(vertex.address, []).append(vertex)
        graph.memo["locals"] = index
    found = [v for v in graph.memo["locals"].get(address, []) if v.root == root or not root]
    if not found:
        return None
    value: Any = found[0].attrs.get(name)
    for key in keys:
        value = unwrap(value)
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _resolve_statements(
    graph: Graph, prefix: str, root: str, value: Any, depth: int = 0
) -> tuple[list[dict[str, Any]], list[str]]:
    """Statement objects in ``value`` (a list, a ``local.x`` reference, a ``concat`` of them),
    resolved through the locals of the module at ``prefix``; and what stayed an expression."""
    if depth > 8:
        return [], [str(value)]
    if isinstance(value, dict):
        return ([value], []) if STATEMENT_KEYS & {k.lower() for k in value} else ([], [])
    if isinstance(value, list):
        found: list[dict[str, Any]] = []
        missing: list[str] = []
        for item in value:
            more, lost = _resolve_statements(graph, prefix, root, item, depth + 1)
            found += more
            missing += lost
        return found, missing
    text = str(value).strip()
    if match := CONCAT.match(text):
        text = match.group(1)
    if text[:1] in "[{" or "," in text:
        parsed = parse_rendered(text)
        if parsed is not None:
            return _resolve_statements(graph, prefix, root, parsed, depth + 1)
    if match := LOCAL_REF.match(text):
        resolved = _local_value(graph, prefix, root, match.group(1))
        if resolved is not None:
            return _resolve_statements(graph, prefix, root, resolved, depth + 1)
    return [], [text]


class _Reader:
    """A tolerant reader of the values checkov leaves half-rendered as text: Python-style lists
    and dicts with quoted strings, where unquoted tokens (``local.x``, a bare ARN) are strings."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def _skip(self) -> None:
        while self.at < len(self.text) and self.text[self.at] in " \t\r\n":
            self.at += 1

    def value(self) -> Any:
        self._skip()
        char = self.text[self.at : self.at + 1]
        if char == "[":
            self.at += 1
            return self._items("]")
        if char == "{":
            self.at += 1
            pairs = self._items("}", pairs=True)
            return dict(pairs)
        if char in ("'", '"'):
            end = self.text.find(char, self.at + 1)
            if end < 0:
                raise ValueError("unterminated string")
            token = self.text[self.at + 1 : end]
            self.at = end + 1
            return token
        start, depth = self.at, 0
        while self.at < len(self.text):
            c = self.text[self.at]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif c in ",:" and depth == 0 and not self._inside_token(c):
                break
            self.at += 1
        token = self.text[start : self.at].strip()
        if not token:
            raise ValueError("empty value")
        return token

    def _inside_token(self, char: str) -> bool:
        # a colon inside an ARN or an action name is part of the token; a key separator is
        # followed by a space (checkov renders ``'key': value``)
        return char == ":" and self.text[self.at + 1 : self.at + 2] not in (" ", "")

    def _items(self, close: str, pairs: bool = False) -> list[Any]:
        out: list[Any] = []
        while True:
            self._skip()
            if self.text[self.at : self.at + 1] == close:
                self.at += 1
                return out
            item = self.value()
            if pairs:
                self._skip()
                if self.text[self.at : self.at + 1] != ":":
                    raise ValueError("expected ':'")
                self.at += 1
                item = (str(item), self.value())
            out.append(item)
            self._skip()
            if self.text[self.at : self.at + 1] == ",":
                self.at += 1
            elif self.text[self.at : self.at + 1] != close:
                raise ValueError(f"unexpected {self.text[self.at : self.at + 1]!r}")


def parse_rendered(text: str) -> list[Any] | None:
    """Comma-separated values (``[..],[..]``, as checkov leaves the arguments of ``concat``),
    or None when the text is not such a literal."""
    reader = _Reader(text)
    values: list[Any] = []
    try:
        while True:
            values.append(reader.value())
            reader._skip()
            if reader.at >= len(text):
                return values
            if text[reader.at] != ",":
                return None
            reader.at += 1
    except (ValueError, IndexError):
        return None


def _hcl_statement(raw: dict[str, Any]) -> dict[str, Any]:
    """A module input statement (``sid``/``effect``/``actions``/``resources``/``conditions``, as
    ``lambda_function`` takes them) in JSON policy keys; JSON-shaped ones pass through."""
    lowered = {k.lower(): v for k, v in raw.items()}
    if "action" in lowered or "notaction" in lowered:
        return raw
    statement: dict[str, Any] = {
        "Effect": str(unwrap(lowered.get("effect")) or "Allow"),
        "Action": as_list(lowered.get("actions")),
        "Resource": as_list(lowered.get("resources")),
    }
    if is_set(lowered.get("sid")):
        statement["Sid"] = unwrap(lowered.get("sid"))
    if is_set(lowered.get("conditions")):
        statement["Condition"] = as_list(lowered.get("conditions"))
    # Read from a module input: who holds the policy is only known where the module renders,
    # and conditions or resources left as expressions cannot be judged here.
    statement[FROM_INPUT] = True
    statement[PARTIAL] = _has_expression(statement.get("Condition")) or _has_expression(
        statement.get("Resource")
    )
    return statement


FROM_INPUT = "__from_module_input__"
PARTIAL = "__partially_rendered__"
EXPRESSION = re.compile(r"(^|[^\w])(local|var|each|module)\.\w|\$\{")


def _has_expression(value: Any) -> bool:
    """Whether a statement part still holds a Terraform expression checkov did not render."""
    if isinstance(value, dict):
        return any(_has_expression(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_expression(v) for v in value)
    return isinstance(value, str) and bool(EXPRESSION.search(value))


def judgeable(
    statements: list[dict[str, Any]], owner_matters: bool = False
) -> tuple[list[dict[str, Any]], list[str]]:
    """The statements a rule on conditions or resources (and, with ``owner_matters``, on who
    holds the policy) can judge, and a note for each it cannot."""
    kept: list[dict[str, Any]] = []
    notes: list[str] = []
    for index, statement in enumerate(statements):
        name = str(unwrap(statement.get("Sid")) or f"statement {index}")
        if statement.get(PARTIAL):
            notes.append(f"{name}: conditions or resources are expressions only a plan renders")
        elif owner_matters and statement.get(FROM_INPUT):
            notes.append(f"{name}: the role it is passed to is named only where the module renders")
        else:
            kept.append(statement)
    return kept, notes


def module_input_statements(graph: Graph, vertex: Vertex) -> tuple[list[dict[str, Any]], list[str]]:
    """The IAM statements the calling ``module`` block passes to the module ``vertex`` lives in
    (its statement-shaped inputs), and the inputs that could not be resolved."""
    memo = graph.memo.setdefault("module_inputs", {})
    key = (vertex.address, vertex.root)
    if key not in memo:
        memo[key] = _module_input_statements(graph, vertex)
    found, missing = memo[key]
    return list(found), list(missing)


def _module_input_statements(
    graph: Graph, vertex: Vertex
) -> tuple[list[dict[str, Any]], list[str]]:
    parts = vertex.address.split(".")
    if len(parts) < 4 or parts[-4] != "module":
        return [], ["the policy's statements (not in a module call the scan can read)"]
    caller = parts[: len(parts) - 4]
    wanted = ".".join([*caller, parts[-3]])
    calls = [v for v in graph.vertices if v.block_type == "module" and v.address == wanted]
    calls = [v for v in calls if v.root == vertex.root] or calls
    if not calls:
        return [], [f"module call {wanted}"]
    call = calls[0]
    prefix = ".".join(caller)
    found: list[dict[str, Any]] = []
    missing: list[str] = []
    for key, raw in call.attrs.items():
        if key.endswith("_") or key.startswith("__") or "." in key:
            continue
        value = unwrap(raw) if not isinstance(raw, list) or len(raw) == 1 else raw
        if not _may_hold_statements(key, value):
            continue
        more, lost = _resolve_statements(graph, prefix, call.root, value)
        found += [_hcl_statement(s) for s in more]
        missing += [f"input {key} of {wanted}: {_short(text)}" for text in lost]
    return found, missing


def _may_hold_statements(key: str, value: Any) -> bool:
    """An input named for statements, or one whose value already holds statement objects."""
    if "statement" in key.lower():
        return True
    return isinstance(value, list) and any(
        isinstance(v, dict) and STATEMENT_KEYS & {k.lower() for k in v} for v in value
    )


def _strings(value: Any) -> list[str]:
    return [str(v) for v in as_list(value)]


def allows(statement: dict[str, Any]) -> bool:
    return str(unwrap(statement.get("Effect", "Allow"))).lower() == "allow"


def actions(statement: dict[str, Any]) -> list[str]:
    return [a.lower() for a in _strings(statement.get("Action"))]


def grants_decrypt(statement: dict[str, Any]) -> bool:
    return allows(statement) and any(
        a in ("*", "kms:*", "kms:decrypt") or a.startswith("kms:decrypt")
        for a in actions(statement)
    )


# --------------------------------------------------------------------------- base class


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

    @staticmethod
    def result(ok: bool) -> CheckResult:
        return CheckResult.PASSED if ok else CheckResult.FAILED


# --------------------------------------------------------------------------- 3.5.1 encryption


class CardholderDataCmkEncryption(PciCheck):
    """CKV_PCI_001: stores of cardholder data are encrypted with a customer-managed KMS key."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_001",
            "3.5.1",
            "Cardholder-data stores are encrypted with a customer-managed KMS key",
            [
                "aws_dynamodb_table",
                "aws_s3_bucket",
                "aws_kinesis_stream",
                "aws_sqs_queue",
                "aws_sns_topic",
                "aws_cloudwatch_log_group",
                "aws_sfn_state_machine",
                "aws_kinesis_firehose_delivery_stream",
            ],
            BcSeverities.CRITICAL,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        chd = is_chd(conf, graph)
        if chd is None:
            return self.unresolved(conf, UNCLASSIFIED)
        if not chd:
            return CheckResult.UNKNOWN
        kind = self.entity_type
        if kind == "aws_dynamodb_table":
            return self.result(
                is_true(get(conf, "server_side_encryption.enabled"))
                and is_cmk(get(conf, "server_side_encryption.kms_key_arn"))
            )
        if kind == "aws_kinesis_stream":
            return self.result(
                str(get(conf, "encryption_type")).upper() == "KMS"
                and is_cmk(get(conf, "kms_key_id"))
            )
        if kind in ("aws_sqs_queue", "aws_sns_topic"):
            return self.result(is_cmk(get(conf, "kms_master_key_id")))
        if kind == "aws_cloudwatch_log_group":
            return self.result(is_cmk(get(conf, "kms_key_id")))
        if kind == "aws_sfn_state_machine":
            return self.result(
                str(get(conf, "encryption_configuration.type")) == "CUSTOMER_MANAGED_KMS_KEY"
                and is_cmk(get(conf, "encryption_configuration.kms_key_id"))
            )
        if kind == "aws_kinesis_firehose_delivery_stream":
            return self.result(
                is_true(get(conf, "server_side_encryption.enabled"))
                and str(get(conf, "server_side_encryption.key_type")) == "CUSTOMER_MANAGED_CMK"
                and is_cmk(get(conf, "server_side_encryption.key_arn"))
            )
        return self.result(_s3_uses_cmk(conf, graph))


def _s3_uses_cmk(conf: dict[str, Any], graph: Graph) -> bool:
    rules = [get(conf, "server_side_encryption_configuration.rule")]
    for sse in graph.referrers(
        ["aws_s3_bucket_server_side_encryption_configuration"], "bucket", literal_attr="bucket"
    ):
        rules += as_list(sse.attrs.get("rule"))
    for rule in rules:
        default = get(rule, "apply_server_side_encryption_by_default")
        if str(get(default, "sse_algorithm")) in ("aws:kms", "aws:kms:dsse") and is_cmk(
            get(default, "kms_master_key_id")
        ):
            return True
    return False


# --------------------------------------------------------------------------- 3.6 / 3.7 keys


class KmsRotationWithinCryptoperiod(PciCheck):
    """CKV_PCI_002: symmetric keys rotate automatically at least every 365 days."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_002",
            "3.7.4",
            "Symmetric KMS keys rotate automatically within a 365-day cryptoperiod",
            ["aws_kms_key"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        usage = str(get(conf, "key_usage") or "ENCRYPT_DECRYPT")
        spec = str(get(conf, "customer_master_key_spec") or "SYMMETRIC_DEFAULT")
        if usage != "ENCRYPT_DECRYPT" or spec != "SYMMETRIC_DEFAULT":
            # KMS cannot rotate HMAC or asymmetric keys: their rotation is manual evidence.
            return CheckResult.UNKNOWN
        period = get(conf, "rotation_period_in_days")
        days = as_int(period) if period is not None else 365
        return self.result(
            is_true(get(conf, "enable_key_rotation")) and days is not None and days <= 365
        )


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


class KeyedHashKeyForFingerprints(PciCheck):
    """CKV_PCI_004: a root with a token vault also has an HMAC KMS key for PAN fingerprints."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_004",
            "3.5.1.1",
            "A configuration with a card vault has a KMS HMAC key for PAN fingerprints",
            ["aws_dynamodb_table"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if "vault" not in table_roles(conf, graph):
            return CheckResult.UNKNOWN
        if not graph.is_root():
            return CheckResult.UNKNOWN
        for key in graph.resources("aws_kms_key"):
            if str(get(key.attrs, "key_usage")) == "GENERATE_VERIFY_MAC" and str(
                get(key.attrs, "customer_master_key_spec")
            ).startswith("HMAC_"):
                return CheckResult.PASSED
        return CheckResult.FAILED


# --------------------------------------------------------------------------- 4.2.1 transport


class S3DeniesInsecureTransport(PciCheck):
    """CKV_PCI_006: every bucket has a policy that denies requests without TLS."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_006",
            "4.2.1",
            "S3 buckets deny requests made without TLS (aws:SecureTransport = false)",
            ["aws_s3_bucket"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        statements = _parse_policy(conf.get("policy"))
        policies = graph.referrers(["aws_s3_bucket_policy"], "bucket", literal_attr="bucket")
        for policy in policies:
            statements += policy_statements(policy.attrs, _graph_at(graph, policy))
        if policies and not statements and graph.me is not None and graph.me.is_plan:
            return self.unresolved(conf, "the bucket policy is known only after apply")
        if any(_denies_plain_http(s) for s in statements):
            return CheckResult.PASSED
        # checkov cannot render some HCL (for example a `for` expression inside jsonencode) and
        # leaves the policy as text: look for the deny statement in that text instead
        texts = [str(conf.get("policy", ""))] + [str(p.attrs.get("policy", "")) for p in policies]
        return self.result(any(PLAIN_HTTP_DENY_TEXT.search(t) for t in texts))


def _graph_at(graph: Graph, vertex: Vertex) -> Graph:
    clone = object.__new__(Graph)
    clone.raw, clone.memo, clone.vertices, clone.me = graph.raw, graph.memo, graph.vertices, vertex
    return clone


PLAIN_HTTP_DENY_TEXT = re.compile(
    r"deny.{0,400}?aws:securetransport['\"]?\s*[:=]\s*\[?\s*['\"]?false",
    re.IGNORECASE | re.DOTALL,
)


def condition_values(statement: dict[str, Any], operator: str, key: str) -> list[str]:
    """Values a statement's conditions test ``key`` against with an operator whose name
    contains ``operator`` (case-insensitive), in JSON form (``{"Bool": {"aws:X": "false"}}``)
    or in the policy-document form (``condition { test, variable, values }``)."""
    conditions = unwrap(statement.get("Condition"))
    found: list[str] = []
    if isinstance(conditions, dict) and "variable" not in conditions:
        for test, body in conditions.items():
            body = unwrap(body)
            if operator in str(test).lower() and isinstance(body, dict):
                found += [str(v) for k, v_ in body.items() if k.lower() == key for v in as_list(v_)]
        return found
    for condition in as_list(conditions):
        if (
            isinstance(condition, dict)
            and str(unwrap(condition.get("variable"))).lower() == key
            and operator in str(unwrap(condition.get("test"))).lower()
        ):
            found += _strings(condition.get("values"))
    return found


def _denies_plain_http(statement: dict[str, Any]) -> bool:
    return not allows(statement) and any(
        v.lower() == "false" for v in condition_values(statement, "bool", "aws:securetransport")
    )


# --------------------------------------------------------------------------- 1.3 / 1.4 network


class CardholderLambdaInVpc(PciCheck):
    """CKV_PCI_007: functions that handle card data run in private subnets of the CDE VPC."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_007",
            "1.4.4",
            "Lambda functions that handle card data are attached to the CDE VPC (vpc_config)",
            ["aws_lambda_function"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        chd = is_chd(conf, graph)
        if chd is None:
            return self.unresolved(conf, UNCLASSIFIED)
        if not chd:
            return CheckResult.UNKNOWN
        # Subnets handed across module boundaries are often a `for` expression checkov cannot
        # render (it leaves an empty list); a vpc_config with either list set is attached, and the
        # plan scan of environments/local checks the resolved subnets.
        return self.result(
            is_set(get(conf, "vpc_config.subnet_ids"))
            or is_set(get(conf, "vpc_config.security_group_ids"))
        )


# Services that function code calls from inside the VPC when the configuration has them. SQS,
# SNS and CloudWatch Logs are left out: here they are reached by AWS services on the functions'
# behalf (dead-letter delivery, alarms, event-source mappings, log shipping), not from the VPC.
SERVICE_OF_TYPE = {
    "aws_dynamodb_table": "dynamodb",
    "aws_s3_bucket": "s3",
    "aws_kms_key": "kms",
    "aws_kinesis_stream": "kinesis-streams",
    "aws_sfn_state_machine": "states",
    "aws_cloudwatch_event_bus": "events",
    "aws_secretsmanager_secret": "secretsmanager",
}


class VpcEndpointsForServicesInUse(PciCheck):
    """CKV_PCI_008: the CDE VPC reaches the AWS services in use through VPC endpoints."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_008",
            "1.3.2",
            "The CDE VPC has endpoints for every AWS service the configuration uses",
            ["aws_vpc"],
            BcSeverities.MEDIUM,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if not graph.is_root():
            return CheckResult.UNKNOWN
        in_vpc = [
            f for f in graph.resources("aws_lambda_function") if is_set(get(f.attrs, "vpc_config"))
        ]
        if not in_vpc:
            return CheckResult.UNKNOWN  # nothing runs inside the VPC
        needed = {SERVICE_OF_TYPE[v.type] for v in graph.resources(*SERVICE_OF_TYPE)}
        have: set[str] = set()
        for endpoint in graph.resources("aws_vpc_endpoint"):
            for name in _strings(endpoint.attrs.get("service_name")):
                have.add(name.rstrip("}").rsplit(".", 1)[-1])
            for each in _strings(endpoint.attrs.get("for_each")):
                have.add(each)
        missing = sorted(needed - have)
        self.details = [f"missing VPC endpoints: {', '.join(missing)}"] if missing else []
        self.details += graph.root_note()
        return self.result(not missing)


# --------------------------------------------------------------------------- 7.2 access


class VaultKeyDecryptOnlyDetokenize(PciCheck):
    """CKV_PCI_009: only the detokenize role may call kms:Decrypt on the vault key."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_009",
            "7.2.1",
            "Only the detokenize role may decrypt with the vault key",
            ["aws_iam_role_policy", "aws_iam_policy", "aws_iam_role"],
            BcSeverities.CRITICAL,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        statements, unresolved = identity_policy(self.entity_type, conf, graph)
        vault_decrypt = [
            s
            for s in statements
            if grants_decrypt(s)
            and any(r == "*" or VAULT_NAME.search(r) for r in _strings(s.get("Resource")))
            and not _customer_key_context_only(s)
        ]
        vault_decrypt, notes = judgeable(vault_decrypt, owner_matters=True)
        unresolved += notes
        if not vault_decrypt:
            if unresolved:
                return self.unresolved(conf, "; ".join(unresolved))
            return CheckResult.PASSED if statements else CheckResult.UNKNOWN
        owner = " ".join([names_of(conf), str(get(conf, "role") or "")])
        return self.result(bool(DETOKENIZE_NAME.search(owner)))


def _customer_key_context_only(statement: dict[str, Any]) -> bool:
    """Decrypt limited by the encryption context to the vault's customer-key wrapping keys:
    those unwrap per-customer keys, never a card record's data key."""
    values = condition_values(statement, "stringequals", "kms:encryptioncontext:vault")
    return bool(values) and set(values) == {"customer-key"}


WILDCARD_ACTIONS = frozenset({"*", "kms:*", "dynamodb:*", "s3:*"})


class NoWildcardDataActions(PciCheck):
    """CKV_PCI_010: identity policies grant no wildcard actions on kms, dynamodb or s3."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_010",
            "7.2.2",
            "IAM policies grant no wildcard actions on kms, dynamodb or s3",
            ["aws_iam_role_policy", "aws_iam_policy", "aws_iam_role"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        statements, unresolved = identity_policy(self.entity_type, conf, graph)
        if not statements and not unresolved:
            return CheckResult.UNKNOWN  # no identity policy here
        bad = [
            a
            for s in statements
            if allows(s) and "Principal" not in s
            for a in actions(s)
            if a in WILDCARD_ACTIONS
        ]
        self.details = [f"wildcard actions: {', '.join(sorted(set(bad)))}"] if bad else []
        if not bad and unresolved:
            return self.unresolved(conf, "; ".join(unresolved))
        return self.result(not bad)


# Cryptographic operations of a KMS key, by its key usage: what "use" of the key means, as opposed
# to managing it. Only the operations a key's usage admits can be granted in effect.
KMS_CRYPTO_ACTIONS = {
    "ENCRYPT_DECRYPT": (
        "kms:decrypt",
        "kms:encrypt",
        "kms:generatedatakey",
        "kms:generatedatakeywithoutplaintext",
        "kms:generatedatakeypair",
        "kms:generatedatakeypairwithoutplaintext",
        "kms:reencryptfrom",
        "kms:reencryptto",
    ),
    "GENERATE_VERIFY_MAC": ("kms:generatemac", "kms:verifymac"),
    "SIGN_VERIFY": ("kms:sign", "kms:verify"),
    "KEY_AGREEMENT": ("kms:derivesharedsecret",),
}
ACCOUNT_ROOT = re.compile(r"(^\d{12}$|:root$)")


def _matches_any(action: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(action, p.lower()) for p in patterns)


def crypto_actions_granted(statement: dict[str, Any], key_usage: str) -> list[str]:
    """The cryptographic KMS actions (of a key with ``key_usage``) an Allow statement grants,
    whether it names them (also as ``kms:*``, ``*`` or ``kms:Decrypt*``, string or list) or
    grants them through ``NotAction``."""
    crypto = KMS_CRYPTO_ACTIONS.get(key_usage.upper(), KMS_CRYPTO_ACTIONS["ENCRYPT_DECRYPT"])
    if not allows(statement):
        return []
    if statement.get("NotAction") is not None:
        excluded = [a.lower() for a in _strings(statement.get("NotAction"))]
        return [a for a in crypto if not _matches_any(a, excluded)]
    return [a for a in crypto if _matches_any(a, actions(statement))]


def key_usage_of(conf: dict[str, Any]) -> str:
    usage = unwrap(conf.get("key_usage"))
    if isinstance(usage, str) and usage in KMS_CRYPTO_ACTIONS:
        return usage
    return "ENCRYPT_DECRYPT"


def principals_of(statement: dict[str, Any]) -> list[str]:
    principal = unwrap(statement.get("Principal"))
    if isinstance(principal, dict):
        return [p for key in ("AWS", "aws") for p in _strings(principal.get(key))]
    return _strings(principal)


def names_account_root_or_anyone(statement: dict[str, Any]) -> bool:
    return any(p == "*" or ACCOUNT_ROOT.search(p) for p in principals_of(statement))


def is_vault_key(conf: dict[str, Any], graph: Graph | None) -> bool:
    """A key of purpose vault (its ``Purpose`` tag, as modules/kms sets it), or, without a
    Purpose tag, a key whose label or description says vault."""
    for key, value in tags_of(conf, graph).items():
        if key.lower() == "purpose":
            return value.strip().lower() == "vault"
    return bool(VAULT_NAME.search(names_of(conf)))


class VaultKeyNoUnconditionedRootCryptoUse(PciCheck):
    """CKV_PCI_019: the vault key's policy grants no cryptographic use to the account root (or
    to everyone) without a condition.

    Complements CKV2_PCI_007, which looks for an explicit Deny and for ``Action = "kms:*"`` as a
    string: a policy that writes ``["kms:*"]``, ``"*"``, ``kms:Decrypt*`` or a plain
    ``kms:Decrypt`` for the root, next to any Deny, passed it. The root principal in a key
    policy is every IAM identity of the account the account's IAM policies allow, so an
    unconditioned grant to it is a grant to whoever IAM says (issue 18, finding 3).
    """

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_019",
            "3.6.1",
            "The vault key policy grants the account root no unconditioned cryptographic use",
            ["aws_kms_key", "aws_kms_key_policy"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        usage = key_usage_of(conf)
        if self.entity_type == "aws_kms_key_policy":
            keys = graph.targets(graph.me, "key_id") if graph.me is not None else []
            vault_keys = [k for k in keys if is_vault_key(k.attrs, _graph_at(graph, k))]
            if not vault_keys:
                return CheckResult.UNKNOWN
            usage = key_usage_of(vault_keys[0].attrs)
        elif not is_vault_key(conf, graph):
            return CheckResult.UNKNOWN
        statements = _parse_policy(conf.get("policy"))
        if not statements:
            text = _unrendered(conf.get("policy"))
            if text is not None:
                return self.unresolved(conf, f"key policy {_short(text)}")
            return CheckResult.UNKNOWN  # no policy (AWS default: root kms:*) is CKV2_PCI_007's
        blanket = sorted(
            {
                action
                for s in statements
                if names_account_root_or_anyone(s) and not is_set(s.get("Condition"))
                for action in crypto_actions_granted(s, usage)
            }
        )
        self.details = (
            [f"granted to the account root without a condition: {', '.join(blanket)}"]
            if blanket
            else []
        )
        return self.result(not blanket)


# Item-level DynamoDB actions: each names the partition key of the item(s) it reaches, which
# dynamodb:LeadingKeys can bound. Scan cannot be bounded by key (and an index Query is on the
# index's key): those are left to least privilege on actions and resources.
DYNAMODB_ITEM_ACTIONS = (
    "dynamodb:getitem",
    "dynamodb:batchgetitem",
    "dynamodb:putitem",
    "dynamodb:updateitem",
    "dynamodb:deleteitem",
    "dynamodb:batchwriteitem",
    "dynamodb:conditioncheckitem",
    "dynamodb:query",
    "dynamodb:partiqlselect",
    "dynamodb:partiqlinsert",
    "dynamodb:partiqlupdate",
    "dynamodb:partiqldelete",
)


def _reaches_vault_table(resource: str) -> bool:
    if resource == "*":
        return True
    lowered = resource.lower()
    if "/index/" in lowered or "/stream/" in lowered or "/backup/" in lowered:
        return False
    return bool(VAULT_NAME.search(resource)) and ("dynamodb" in lowered or "table" in lowered)


class VaultTableGrantsBoundedByLeadingKeys(PciCheck):
    """CKV_PCI_020: identity-policy grants of item-level actions on a vault table carry a
    ``dynamodb:LeadingKeys`` condition (issue 18, finding 7: the tokenize role could delete any
    customer key and write any tenant's records)."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_020",
            "7.2.2",
            "Item-level grants on vault tables are bounded by dynamodb:LeadingKeys",
            ["aws_iam_role_policy", "aws_iam_policy", "aws_iam_role"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        statements, unresolved = identity_policy(self.entity_type, conf, graph)
        relevant = [
            s
            for s in statements
            if allows(s)
            and "Principal" not in s
            and any(_matches_any(a, actions(s)) for a in DYNAMODB_ITEM_ACTIONS)
            and any(_reaches_vault_table(r) for r in _strings(s.get("Resource")))
        ]
        relevant, notes = judgeable(relevant)
        unresolved += notes
        if not relevant:
            if unresolved:
                return self.unresolved(conf, "; ".join(unresolved))
            return CheckResult.UNKNOWN
        unbounded = [
            str(unwrap(s.get("Sid")) or f"statement {i}")
            for i, s in enumerate(relevant)
            if not _has_condition_key(s, "dynamodb:leadingkeys")
        ]
        self.details = (
            [f"vault table grants without dynamodb:LeadingKeys: {', '.join(unbounded)}"]
            if unbounded
            else []
        )
        if not unbounded and unresolved:
            return self.unresolved(conf, "; ".join(unresolved))
        return self.result(not unbounded)


# KMS actions that hand the caller plaintext, or a data key to make ciphertext with.
KMS_KEY_USE_ACTIONS = (
    "kms:decrypt",
    "kms:generatedatakey",
    "kms:generatedatakeypair",
    "kms:generatedatakeywithoutplaintext",
    "kms:generatedatakeypairwithoutplaintext",
    "kms:reencryptfrom",
    "kms:reencryptto",
)


def _condition_keys(statement: dict[str, Any]) -> set[str]:
    """The condition keys a statement tests (JSON ``Condition`` or HCL ``condition`` blocks),
    lowercased."""
    conditions = unwrap(statement.get("Condition"))
    if isinstance(conditions, dict) and "variable" not in conditions:
        return {
            str(k).lower()
            for body in conditions.values()
            if isinstance(unwrap(body), dict)
            for k in unwrap(body)
        }
    return {
        str(unwrap(c.get("variable"))).lower() for c in as_list(conditions) if isinstance(c, dict)
    }


class IdentityGrantCheck(PciCheck):
    """A check of the Allow statements of identity policies (a role's inline policies, an
    ``aws_iam_role_policy`` or ``aws_iam_policy``, with the policy documents they reference) that
    grant one of ``judged_actions`` (wildcards included): ``offending`` names what a statement
    grants too widely; no such statement, no result."""

    judged_actions: tuple[str, ...] = ()
    problem = ""

    def __init__(self, check_id: str, requirement: str, name: str) -> None:
        super().__init__(
            check_id,
            requirement,
            name,
            ["aws_iam_role_policy", "aws_iam_policy", "aws_iam_role"],
            BcSeverities.HIGH,
        )

    def offending(self, statement: dict[str, Any], index: int) -> list[str]:
        raise NotImplementedError

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        statements, unresolved = identity_policy(self.entity_type, conf, graph)
        relevant = [
            s
            for s in statements
            if allows(s)
            and "Principal" not in s
            and any(_matches_any(a, actions(s)) for a in self.judged_actions)
        ]
        relevant, notes = judgeable(relevant)
        unresolved += notes
        if not relevant:
            if unresolved:
                return self.unresolved(conf, "; ".join(unresolved))
            return CheckResult.UNKNOWN
        found = sorted({o for i, s in enumerate(relevant) for o in self.offending(s, i)})
        self.details = [f"{self.problem}: {', '.join(found)}"] if found else []
        if not found and unresolved:
            return self.unresolved(conf, "; ".join(unresolved))
        return self.result(not found)


class KmsKeyUseThroughServiceOrContext(IdentityGrantCheck):
    """CKV_PCI_022: an identity policy that lets a role decrypt (or make data keys) with a KMS
    key says through which service (``kms:ViaService``) or for which data
    (``kms:EncryptionContext:*``). Unconditioned, the role can decrypt every ciphertext under
    the key, whoever wrote it (issue 18, finding 11: every function held Decrypt and
    GenerateDataKey on the application key, which encrypts the tables, the workflow state and
    the environments)."""

    judged_actions = KMS_KEY_USE_ACTIONS
    problem = "KMS key use without kms:ViaService or kms:EncryptionContext"

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_022",
            "3.6.1",
            "KMS key use in identity policies is bound to a service or an encryption context",
        )

    def offending(self, statement: dict[str, Any], index: int) -> list[str]:
        bound = any(
            key == "kms:viaservice" or key.startswith("kms:encryptioncontext")
            for key in _condition_keys(statement)
        )
        return [] if bound else [str(unwrap(statement.get("Sid")) or f"statement {index}")]


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
        resources = _strings(statement.get("Resource")) or ["(NotResource)"]
        return [r for r in resources if not _names_functions(r)]


def _has_condition_key(statement: dict[str, Any], key: str) -> bool:
    conditions = unwrap(statement.get("Condition"))
    if isinstance(conditions, dict) and "variable" not in conditions:
        return any(
            isinstance(unwrap(body), dict) and any(k.lower() == key for k in unwrap(body))
            for body in conditions.values()
        )
    return any(
        isinstance(c, dict) and str(unwrap(c.get("variable"))).lower() == key
        for c in as_list(conditions)
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
            chd = is_chd(attrs, graph)
            if chd is None:
                return self.unresolved(conf, UNCLASSIFIED)
            if not chd:
                return CheckResult.UNKNOWN
            kept = is_set(get(conf, "dead_letter_config.target_arn"))
            self.details = ["dead_letter_config keeps failed events"] if kept else []
            return self.result(not kept)
        functions = _invoke_config_functions(graph, conf)
        classes = [is_chd(_with_module_inputs(graph, f), _graph_at(graph, f)) for f in functions]
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


# --------------------------------------------------------------------------- 10.x logging


class CloudTrailCoversCardholderData(PciCheck):
    """CKV_PCI_011: data events of CHD tables and buckets are recorded by CloudTrail."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_011",
            "10.2.1",
            "CloudTrail records data events for cardholder-data tables and buckets",
            ["aws_dynamodb_table", "aws_s3_bucket"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if not is_chd(conf, graph) or not graph.is_root():
            return CheckResult.UNKNOWN
        wanted = (
            "AWS::DynamoDB::Table"
            if self.entity_type == "aws_dynamodb_table"
            else "AWS::S3::Object"
        )
        for trail in graph.resources("aws_cloudtrail"):
            if _trail_records(rendered_config(trail), wanted):
                return CheckResult.PASSED
            for selector in as_list(trail.attrs.get("event_selector")):
                for data in as_list(get(selector, "data_resource")):
                    if str(get(data, "type")) == wanted:
                        return CheckResult.PASSED
            for selector in as_list(trail.attrs.get("advanced_event_selector")):
                for field in as_list(get(selector, "field_selector")):
                    if str(get(field, "field")) == "resources.type" and wanted in _strings(
                        get(field, "equals")
                    ):
                        return CheckResult.PASSED
        return CheckResult.FAILED


def rendered_config(vertex: Vertex) -> dict[str, Any]:
    """The resource's rendered configuration with every repeated block kept (the vertex's own
    attributes keep only the first block of a kind, e.g. one of several event selectors)."""
    config = vertex.attrs.get("config_")
    if isinstance(config, dict):
        for by_name in config.values():
            if isinstance(by_name, dict):
                for body in by_name.values():
                    if isinstance(body, dict):
                        return body
    return {}


def _trail_records(body: dict[str, Any], resource_type: str) -> bool:
    for selector in body.get("advanced_event_selector") or []:
        if not isinstance(selector, dict):
            continue
        for field in selector.get("field_selector") or []:
            if (
                isinstance(field, dict)
                and str(unwrap(field.get("field"))) == "resources.type"
                and resource_type in _strings(field.get("equals"))
            ):
                return True
    return False


COLD_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})


class AuditLogArchiveLifecycle(PciCheck):
    """CKV_PCI_012: the audit-log bucket keeps logs >= 365 days, the first 90 days hot."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_012",
            "10.5.1",
            "Audit-log buckets keep logs for at least 365 days, the first 90 days hot",
            ["aws_s3_bucket"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if not is_audit_bucket(conf, graph):
            return CheckResult.UNKNOWN
        rules = as_list(conf.get("lifecycle_rule"))
        for lifecycle in graph.referrers(
            ["aws_s3_bucket_lifecycle_configuration"], "bucket", literal_attr="bucket"
        ):
            rules += as_list(lifecycle.attrs.get("rule"))
        if not rules:
            self.details = ["no lifecycle rule defines the retention of the audit logs"]
            return CheckResult.FAILED
        for rule in rules:
            status = get(rule, "status")
            if status is not None and str(status) != "Enabled":
                continue
            if is_set(get(rule, "enabled")) and not is_true(get(rule, "enabled")):
                continue
            for expiration in as_list(get(rule, "expiration")):
                days = as_int(get(expiration, "days"))
                if days is not None and days < 365:
                    return CheckResult.FAILED
            for transition in as_list(get(rule, "transition")):
                days = as_int(get(transition, "days"))
                cold = str(get(transition, "storage_class")) in COLD_CLASSES
                if cold and days is not None and days < 90:
                    return CheckResult.FAILED
        return CheckResult.PASSED


class AuditBucketObjectLock(PciCheck):
    """CKV_PCI_013: the audit-log bucket is write-once (Object Lock, >= 365 days)."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_013",
            "10.3.2",
            "Audit-log buckets have S3 Object Lock with a default retention of at least 365 days",
            ["aws_s3_bucket"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if not is_audit_bucket(conf, graph):
            return CheckResult.UNKNOWN
        enabled = (
            is_true(get(conf, "object_lock_enabled"))
            or str(get(conf, "object_lock_configuration.object_lock_enabled")) == "Enabled"
        )
        rules = [get(conf, "object_lock_configuration.rule")]
        for lock in graph.referrers(
            ["aws_s3_bucket_object_lock_configuration"], "bucket", literal_attr="bucket"
        ):
            rules += as_list(lock.attrs.get("rule"))
        for rule in rules:
            retention = get(rule, "default_retention")
            days = as_int(get(retention, "days")) or 0
            years = as_int(get(retention, "years")) or 0
            if is_set(get(retention, "mode")) and max(days, years * 365) >= 365:
                return self.result(enabled)
        return CheckResult.FAILED


# --------------------------------------------------------------------------- 3.2.1 / 12.10.1 tables


class VaultAndIdempotencyTtl(PciCheck):
    """CKV_PCI_014: vault and idempotency tables expire their items (TTL)."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_014",
            "3.2.1",
            "Vault and idempotency tables expire items with a TTL attribute",
            ["aws_dynamodb_table"],
            BcSeverities.MEDIUM,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if not table_roles(conf, self.graph_for(conf)) & {"vault", "idempotency"}:
            return CheckResult.UNKNOWN
        return self.result(
            is_true(get(conf, "ttl.enabled")) and is_set(get(conf, "ttl.attribute_name"))
        )


class VaultAndLedgerRecoverable(PciCheck):
    """CKV_PCI_015: vault and ledger tables have deletion protection and PITR."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_015",
            "12.10.1",
            "Vault and ledger tables have deletion protection and point-in-time recovery",
            ["aws_dynamodb_table"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if not table_roles(conf, self.graph_for(conf)) & {"vault", "ledger"}:
            return CheckResult.UNKNOWN
        return self.result(
            is_true(get(conf, "deletion_protection_enabled"))
            and is_true(get(conf, "point_in_time_recovery.enabled"))
        )


# --------------------------------------------------------------------------- 6.4 public APIs


class PublicApiBehindWaf(PciCheck):
    """CKV_PCI_016: public API stages are protected by an AWS WAF web ACL."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_016",
            "6.4.2",
            "Public API Gateway stages are associated with a WAFv2 web ACL",
            ["aws_api_gateway_stage", "aws_apigatewayv2_stage"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        graph = self.graph_for(conf)
        if self.entity_type == "aws_apigatewayv2_stage":
            # HTTP APIs cannot be associated with WAF; put CloudFront + WAF or a REST API in front.
            self.details = ["HTTP APIs (apigatewayv2) cannot carry a WAF web ACL"]
            return CheckResult.FAILED
        if graph.me is not None:
            for api in graph.targets(graph.me, "rest_api_id"):
                if "PRIVATE" in _strings(get(api.attrs, "endpoint_configuration.types")):
                    return CheckResult.UNKNOWN
        if is_set(get(conf, "web_acl_arn")):
            return CheckResult.PASSED
        associations = graph.referrers(["aws_wafv2_web_acl_association"], "resource_arn")
        return self.result(bool(associations))


class ApiRequiresAuthorization(PciCheck):
    """CKV_PCI_017: every API method or route requires an authorizer (except CORS pre-flight)."""

    def __init__(self) -> None:
        super().__init__(
            "CKV_PCI_017",
            "6.4.1",
            "API methods and routes require authorization",
            ["aws_api_gateway_method", "aws_apigatewayv2_route"],
            BcSeverities.HIGH,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if self.entity_type == "aws_api_gateway_method":
            if str(get(conf, "http_method")).upper() == "OPTIONS":
                return CheckResult.UNKNOWN
            auth = str(get(conf, "authorization") or "NONE").upper()
            return self.result(auth != "NONE" or is_true(get(conf, "api_key_required")))
        if str(get(conf, "route_key")).upper().startswith("OPTIONS "):
            return CheckResult.UNKNOWN
        return self.result(str(get(conf, "authorization_type") or "NONE").upper() != "NONE")


# --------------------------------------------------------------------------- 12.5.1 inventory


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


CHECKS = [
    CardholderDataCmkEncryption(),
    KmsRotationWithinCryptoperiod(),
    NoMultiRegionCardholderKeys(),
    KeyedHashKeyForFingerprints(),
    S3DeniesInsecureTransport(),
    CardholderLambdaInVpc(),
    VpcEndpointsForServicesInUse(),
    VaultKeyDecryptOnlyDetokenize(),
    NoWildcardDataActions(),
    VaultKeyNoUnconditionedRootCryptoUse(),
    VaultTableGrantsBoundedByLeadingKeys(),
    NoAsyncDestinationOnCardDataFunctions(),
    KmsKeyUseThroughServiceOrContext(),
    LambdaInvokeNamesItsFunctions(),
    CloudTrailCoversCardholderData(),
    AuditLogArchiveLifecycle(),
    AuditBucketObjectLock(),
    VaultAndIdempotencyTtl(),
    VaultAndLedgerRecoverable(),
    PublicApiBehindWaf(),
    ApiRequiresAuthorization(),
    RequiredInventoryTags(),
]
