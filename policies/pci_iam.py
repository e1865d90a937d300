"""Reading IAM statements for the PCI DSS checks: identity policies, the policy documents they
reference, and the statements a ``module`` call passes to the module that renders the policy."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable
from typing import Any

from checkov.common.bridgecrew.severities import BcSeverities
from checkov.common.models.enums import CheckResult

from pci_common import Graph, PciCheck, Vertex, as_list, get, graph_at, is_set, strings, unwrap


def parse_policy(value: Any) -> list[dict[str, Any]]:
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
    statements = parse_policy(conf.get(attribute))
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


def unrendered(value: Any) -> str | None:
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
        statements = [s for p in policies for s in parse_policy(p)]
        unresolved = [f"inline policy {short(text)}" for p in policies if (text := unrendered(p))]
    else:
        statements = policy_statements(conf, graph)
        text = unrendered(conf.get("policy"))
        unresolved = [] if text is None or statements else [f"policy {short(text)}"]
    if unresolved and graph.me is not None:
        passed, missing = module_input_statements(graph, graph.me)
        statements += passed
        unresolved += missing
    return statements, unresolved


def short(text: str, limit: int = 100) -> str:
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
# the module a statement passed through a module call was written in (its references resolve
# there): the caller's address, "" for the root
WRITTEN_IN = "__written_in__"


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
        found += [{**_hcl_statement(s), WRITTEN_IN: prefix} for s in more]
        missing += [f"input {key} of {wanted}: {short(text)}" for text in lost]
    return found, missing


def _may_hold_statements(key: str, value: Any) -> bool:
    """An input named for statements, or one whose value already holds statement objects."""
    if "statement" in key.lower():
        return True
    return isinstance(value, list) and any(
        isinstance(v, dict) and STATEMENT_KEYS & {k.lower() for k in v} for v in value
    )


def allows(statement: dict[str, Any]) -> bool:
    return str(unwrap(statement.get("Effect", "Allow"))).lower() == "allow"


def actions(statement: dict[str, Any]) -> list[str]:
    return [a.lower() for a in strings(statement.get("Action"))]


def grants_decrypt(statement: dict[str, Any]) -> bool:
    return allows(statement) and any(
        a in ("*", "kms:*", "kms:decrypt") or a.startswith("kms:decrypt")
        for a in actions(statement)
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
            found += strings(condition.get("values"))
    return found


def matches_any(action: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(action, p.lower()) for p in patterns)


def condition_keys(statement: dict[str, Any]) -> set[str]:
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
            and any(matches_any(a, actions(s)) for a in self.judged_actions)
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


def has_condition_key(statement: dict[str, Any], key: str) -> bool:
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


def roles_holding(entity_type: str, conf: dict[str, Any], graph: Graph) -> list[Vertex]:
    """The ``aws_iam_role`` resources an identity policy is attached to, by graph facts: the
    role itself, the ``role`` an ``aws_iam_role_policy`` references (or names, in a plan), the
    roles ``aws_iam_role_policy_attachment`` resources attach an ``aws_iam_policy`` to."""
    if graph.me is None:
        return []
    if entity_type == "aws_iam_role":
        return [graph.me]
    if entity_type == "aws_iam_role_policy":
        return _roles_named(graph, graph.targets(graph.me, "role"), get(conf, "role"))
    roles: list[Vertex] = []
    for attachment in graph.referrers(["aws_iam_role_policy_attachment"], "policy_arn"):
        at = graph_at(graph, attachment)
        roles += _roles_named(at, at.targets(attachment, "role"), attachment.attrs.get("role"))
    return roles


def _roles_named(graph: Graph, targets: list[Vertex], name: Any) -> list[Vertex]:
    roles = [v for v in targets if v.type == "aws_iam_role"]
    name = unwrap(name)
    if not roles and isinstance(name, str) and name:
        roles = [v for v in graph.resources("aws_iam_role") if unwrap(v.attrs.get("name")) == name]
    return roles
