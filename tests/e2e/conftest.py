from __future__ import annotations

import os
import subprocess
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from py.path import local  # type: ignore[import-untyped]  # pytest's py.py shim: no py.typed
from pytest_terraform import tf  # type: ignore[import-untyped]  # no stubs, no py.typed

# The end-to-end tests share the session's emulator, started before anything is applied.
from tests.integration.conftest import _emulator_first

__all__ = ["_emulator_first"]


# Run after every other end-to-end test of the session, in this order: they add many
# payments (and, for the chaos run, faults and dead execution environments) to the shared
# apply, which the other tests would read as theirs (every lake object is scanned for card
# numbers; a log group listing grows past a page).
RUN_LAST = ("test_load.py", "test_chaos.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = Path(str(item.fspath)).name
        return RUN_LAST.index(name) + 1 if name in RUN_LAST else 0

    # sort is stable: the other tests keep their order.
    items.sort(key=rank)


@pytest.fixture(scope="session")
def local_environment(
    request: pytest.FixtureRequest, tmpdir_factory: pytest.TempdirFactory, worker_id: str
) -> Any:
    """environments/local, applied once per session on the session's emulator and shared by
    every end-to-end module; no teardown: the emulator is thrown away.

    Built here, when the session runs, rather than by ``terraform(...)`` at import: pytest
    imports this conftest before pytest-terraform is configured when it is given tests/e2e."""
    environment = tf.TerraformFixture(
        tf.LazyTfBin,
        tf.LazyPluginCacheDir,
        "session",
        "local",
        local(__file__).dirpath(),
        False,
        tf.td.OFF,
        request.config,
    )
    return environment(request, tmpdir_factory, worker_id)


@dataclass(frozen=True)
class PostApplyPlan:
    """One `terraform plan` of the applied environment: its -detailed-exitcode answer and the
    plan as `terraform show -json` renders it."""

    returncode: int
    output: str
    json_text: str


@pytest.fixture(scope="session")
def post_apply_plan(
    local_environment: Any, tmp_path_factory: pytest.TempPathFactory
) -> PostApplyPlan:
    """Planned once for the tests that read a plan of the applied stack (that it converges, that
    it passes the PCI scan): a plan of the whole environment takes a minute on two cores."""
    runner = local_environment.terraform
    plan_file = tmp_path_factory.mktemp("post-apply-plan") / "tfplan"
    env = {**os.environ, "TF_IN_AUTOMATION": "yes", "TF_DATA_DIR": str(runner.work_dir)}
    # the plan pytest-terraform would run, asked for its exit code: 0 no change, 2 changes
    args = runner._get_cmd_args("plan", output=f"-out={plan_file}")
    planned = subprocess.run(
        [*args, "-detailed-exitcode", "-lock=false"],
        cwd=runner.module_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    shown = ""
    if planned.returncode in (0, 2):
        shown = subprocess.run(
            [runner.tf_bin, "show", "-json", str(plan_file)],
            cwd=runner.module_dir,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return PostApplyPlan(planned.returncode, planned.stdout[-3000:] + planned.stderr[-3000:], shown)


@pytest.fixture(scope="session")
def api_env(local_environment: Any) -> dict[str, Any]:
    """environments/local's outputs, by name."""
    return {name: value["value"] for name, value in local_environment.outputs.items()}


# The functions whose log lines explain a failed API answer (a 5xx says only "api_error").
EXPLAINING_GROUPS = (
    "/aws/lambda/payments-local-payments-api",
    "/aws/lambda/payments-local-process-payment",
    "/aws/lambda/payments-local-assess-risk",
)
TAIL_LINES = 30


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed end-to-end test carries the tail of the functions' logs in its report: the
    emulator is gone by the time anyone reads a CI log, and with it the log groups."""
    report = yield
    emulator = getattr(item, "funcargs", {}).get("emulator")
    if report.when == "call" and report.failed and emulator is not None:
        for group in EXPLAINING_GROUPS:
            try:
                lines = emulator.log_messages(group)[-TAIL_LINES:]
            except Exception as error:  # a diagnostic must never mask the failure
                lines = [f"(could not read {group}: {type(error).__name__})"]
            report.sections.append((f"log tail {group}", "\n".join(lines)))
    return report
