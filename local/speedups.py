"""Per-request costs moto pays again and again, paid once here.

A profile of the emulator over 25 sequential payments (py-spy, all processes) put about a tenth
of every payment in two places that do the same work on every call:

- ``jsonpath_ng``'s ``parse`` builds a new PLY parser (reading its LR tables) for each
  expression it parses, and moto parses the Step Functions paths (``$.payment.id``…) at every
  state of every execution and each EventBridge input template at every delivery. The parsed
  expression is an immutable tree, so one per distinct string is enough.
- moto's server lists its own package directory (``os.listdir`` + ``isdir`` per entry) on every
  request to decide whether the host names a backend; the directory does not change while the
  emulator runs.

Neither changes what moto answers, only how often it redoes the same work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

# Distinct expressions in the payment workflow and the event rules: a few hundred at most.
_PARSED_PATHS = 4096


def install() -> None:
    _cache_jsonpath_parsers()
    _cache_moto_module_list()


def _cache_jsonpath_parsers() -> None:
    import jsonpath_ng
    import jsonpath_ng.ext
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    plain = _cached(getattr(jsonpath_ng, "parse"))  # noqa: B009 (not re-exported for mypy)
    extended = _cached(getattr(jsonpath_ng.ext, "parse"))  # noqa: B009
    # moto binds `parse` at import in these two modules and imports it inside the call in
    # moto.events, so each name is replaced where it is looked up.
    for module, parse in (
        (jsonpath_ng, plain),
        (result_path, plain),
        (jsonpath_ng.ext, extended),
        (json_path, extended),
    ):
        setattr(module, "parse", parse)  # noqa: B010


def _cached(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    if hasattr(parse, "cache_info"):  # installed twice (tests start several emulators)
        return parse
    return functools.lru_cache(maxsize=_PARSED_PATHS)(parse)


def _cache_moto_module_list() -> None:
    from moto import backends

    listed = backends.list_of_moto_modules
    if hasattr(listed, "cache_info"):
        return
    modules = frozenset(listed())

    @functools.lru_cache(maxsize=1)
    def list_of_moto_modules() -> Iterable[str]:
        return modules

    setattr(backends, "list_of_moto_modules", list_of_moto_modules)  # noqa: B010
