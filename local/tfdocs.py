"""Input and output tables of each module's README, generated from its Terraform.

terraform-docs cannot be installed on the machines this project runs on, so this renders the
part of its output that the READMEs carry: the requirements, the inputs (name, description,
type, default, required) and the outputs, between the same markers terraform-docs uses, so a
fork that has terraform-docs can switch to it without touching a README.

The blocks are found with the HCL2 parser checkov already brings (``hcl2``), which gives each
block's values and lines. Types and defaults are shown as written in the source rather than as
the parser re-renders them: the parser drops the comments that explain an object's fields and
reflows the expression.

``python -m local.tfdocs`` rewrites the READMEs (``make docs``); ``--check`` changes nothing
and exits 1 naming each README that is stale (``make lint``).
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import lark
from hcl2.api import loads as hcl_loads

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    type: str
    default: str | None  # source text; None when the input is required

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class Output:
    name: str
    description: str
    sensitive: bool


@dataclass(frozen=True)
class Requirement:
    name: str
    version: str


@dataclass(frozen=True)
class ModuleDocs:
    requirements: tuple[Requirement, ...]
    variables: tuple[Variable, ...]
    outputs: tuple[Output, ...]


class StaleReadme(Exception):
    """A README has no markers, so its tables cannot be placed."""


def _scan_depths(text: str) -> list[int | None]:
    """The brace/bracket/paren depth before each character, None inside strings and comments.

    Only code characters carry a depth, so a brace inside a string, a heredoc or a comment
    never closes a block.
    """
    depths: list[int | None] = [None] * len(text)
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if text.startswith("<<", i):
            marker_start = i + 2 + (1 if text.startswith("-", i + 2) else 0)
            line_end = text.find("\n", marker_start)
            marker = text[marker_start:line_end].strip() if line_end > 0 else ""
            if marker.isidentifier():
                j = line_end + 1
                while j < n:
                    next_line = text.find("\n", j)
                    line = text[j : n if next_line < 0 else next_line]
                    if line.strip() == marker:
                        i = j + len(line)
                        break
                    if next_line < 0:
                        i = n
                        break
                    j = next_line + 1
                else:
                    i = n
                continue
        if ch == '"':
            # Strings may hold ${...} interpolations with quotes of their own.
            i += 1
            interp = 0
            while i < n:
                c = text[i]
                if c == "\\":
                    i += 2
                    continue
                if text.startswith("${", i) or text.startswith("%{", i):
                    interp += 1
                    i += 2
                    continue
                if c == "}" and interp:
                    interp -= 1
                elif c == '"' and not interp:
                    break
                i += 1
            i += 1
            continue
        depths[i] = depth
        if ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
        i += 1
    return depths


def _attribute_source(block: str, name: str) -> str | None:
    """The source text of the block's own attribute `name` (not a nested block's)."""
    depths = _scan_depths(block)
    body_start = block.index("{") + 1
    offset = body_start
    for line in block[body_start:].splitlines(keepends=True):
        stripped = line.lstrip()
        col = offset + len(line) - len(stripped)
        offset += len(line)
        if depths[col] != 1 or not stripped.startswith(name):
            continue
        rest = stripped[len(name) :].lstrip()
        if not rest.startswith("=") or rest.startswith("=="):
            continue
        start = col + len(stripped) - len(rest) + 1
        end = start
        # The value runs to the first line end outside any bracket, string or heredoc.
        while end < len(block):
            if block[end] == "\n" and depths[end] == 1:
                break
            end += 1
        value = block[start:end]
        return _dedent_continuation(value.strip())
    return None


def _dedent_continuation(value: str) -> str:
    first, _, rest = value.partition("\n")
    if not rest:
        return first
    return first + "\n" + textwrap.dedent(rest)


def _blocks(path: Path, kind: str) -> Iterable[tuple[str, dict[str, object], str]]:
    text = path.read_text()
    parsed = hcl_loads(text)
    lines = text.splitlines(keepends=True)
    for entry in parsed.get(kind, []):
        for name, body in entry.items():
            # The parser gives lines for variable blocks (not for outputs, whose source
            # no table shows).
            start, end = body.get("__start_line__"), body.get("__end_line__")
            source = "".join(lines[int(start) - 1 : int(end)]) if start and end else ""
            yield name, body, source


def _first(body: dict[str, object], key: str, default: object = None) -> object:
    values = body.get(key)
    return values[0] if isinstance(values, list) and values else default


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(value: object) -> str:
    """An HCL string literal's value: the parser hands strings over with escapes as written."""
    text = str(value)
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPES:
            out.append(_ESCAPES[text[i + 1]])
            i += 2
        elif text.startswith("$${", i) or text.startswith("%%{", i):
            out.append(text[i + 1 : i + 3])
            i += 3
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def read_module(module: Path) -> ModuleDocs:
    variables: list[Variable] = []
    outputs: list[Output] = []
    requirements: list[Requirement] = []
    for path in sorted(module.glob("*.tf")):
        for name, body, source in _blocks(path, "variable"):
            has_default = "default" in body
            variables.append(
                Variable(
                    name=name,
                    description=_unescape(_first(body, "description", "")),
                    type=_attribute_source(source, "type") or "any",
                    default=(_attribute_source(source, "default") if has_default else None),
                )
            )
        for name, body, _source in _blocks(path, "output"):
            outputs.append(
                Output(
                    name=name,
                    description=_unescape(_first(body, "description", "")),
                    sensitive=bool(_first(body, "sensitive", False)),
                )
            )
        for terraform in hcl_loads(path.read_text()).get("terraform", []):
            version = terraform.get("required_version")
            if version:
                requirements.append(Requirement("terraform", str(version[0])))
            for providers in terraform.get("required_providers", []):
                for provider, specs in providers.items():
                    for spec in specs if isinstance(specs, list) else [specs]:
                        if isinstance(spec, dict) and "version" in spec:
                            requirements.append(Requirement(provider, str(spec["version"])))
    return ModuleDocs(
        requirements=tuple(requirements),
        variables=tuple(sorted(variables, key=lambda v: (not v.required, v.name))),
        outputs=tuple(sorted(outputs, key=lambda o: o.name)),
    )


def _cell(text: str) -> str:
    """Prose for one table cell: one line, pipes escaped, `<name>` shown rather than as HTML."""
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def _code_cell(source: str) -> str:
    """An expression for one table cell, keeping its layout when it spans lines."""
    if "\n" not in source:
        return "`" + source.replace("|", "\\|") + "`"
    escaped = html.escape(source, quote=False).replace("|", "&#124;")
    return "<pre>" + "<br>".join(escaped.splitlines()) + "</pre>"


def render(docs: ModuleDocs) -> str:
    out = [BEGIN, "## Requirements", "", "| Name | Version |", "| --- | --- |"]
    out += [f"| {r.name} | `{r.version}` |" for r in docs.requirements]
    out += ["", "## Inputs", ""]
    if docs.variables:
        out += [
            "| Name | Description | Type | Default | Required |",
            "| --- | --- | --- | --- | :---: |",
        ]
        for v in docs.variables:
            default = "n/a" if v.default is None else _code_cell(v.default)
            required = "yes" if v.required else "no"
            out.append(
                f"| `{v.name}` | {_cell(v.description)} | {_code_cell(v.type)} | "
                f"{default} | {required} |"
            )
    else:
        out.append("No inputs.")
    out += ["", "## Outputs", ""]
    if docs.outputs:
        out += ["| Name | Description |", "| --- | --- |"]
        for o in docs.outputs:
            note = " (sensitive)" if o.sensitive else ""
            out.append(f"| `{o.name}` | {_cell(o.description)}{note} |")
    else:
        out.append("No outputs.")
    out.append(END)
    return "\n".join(out)


def update(readme_text: str, docs: ModuleDocs) -> str:
    """The README with its generated part replaced; the prose around it is kept as it is."""
    start = readme_text.find(BEGIN)
    end = readme_text.find(END)
    if start < 0 or end < start:
        raise StaleReadme(f"no {BEGIN} ... {END} markers")
    return readme_text[:start] + render(docs) + readme_text[end + len(END) :]


def modules(root: Path) -> list[Path]:
    return sorted(p.parent for p in (root / "modules").glob("*/variables.tf"))


def run(root: Path, *, check: bool) -> list[str]:
    """Regenerate (or only compare) every module README; the problems found, one line each."""
    problems: list[str] = []
    for module in modules(root):
        readme = module / "README.md"
        rel = readme.relative_to(root)
        if not readme.exists():
            problems.append(f"{rel}: missing")
            continue
        current = readme.read_text()
        try:
            wanted = update(current, read_module(module))
        except StaleReadme as exc:
            problems.append(f"{rel}: {exc}")
            continue
        except (lark.exceptions.LarkError, ValueError) as exc:
            # terraform validate names the error better; one line here says which module.
            first = str(exc).strip().splitlines()[0]
            problems.append(f"{module.relative_to(root)}: cannot parse its Terraform: {first}")
            continue
        if wanted != current:
            if check:
                problems.append(f"{rel}: stale, run `make docs`")
            else:
                readme.write_text(wanted)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    problems = run(args.root, check=args.check)
    for line in problems:
        print(line, file=sys.stderr)
    if not problems and args.check:
        print(json.dumps({"module_readmes": "current"}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
