"""The deploy workflows users run (.github/workflows, apart from the project's own ci.yml).

Every third-party action is pinned to a full commit SHA: a tag can be moved to other code by
whoever controls the action's repository, and these jobs hold AWS deploy roles.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lock file

WORKFLOWS = Path(__file__).resolve().parents[3] / ".github" / "workflows"
# The project's own CI, outside what users deploy with (and not theirs to pin).
PROJECT_CI = {"ci.yml"}
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@]+)?@[0-9a-f]{40}$")


def user_workflows() -> list[Path]:
    return sorted(p for p in WORKFLOWS.glob("*.yml") if p.name not in PROJECT_CI)


def uses_of(node: Any) -> Iterator[str]:
    """Every value of a `uses:` key, at any depth (steps and reusable-workflow jobs)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "uses" and isinstance(value, str):
                yield value
            else:
                yield from uses_of(value)
    elif isinstance(node, list):
        for item in node:
            yield from uses_of(item)


def unpinned(text: str) -> list[str]:
    """The `uses:` references of a workflow that are neither local nor pinned to a commit SHA."""
    return [
        ref
        for ref in uses_of(yaml.safe_load(text))
        if not ref.startswith("./") and not PINNED.match(ref)
    ]


def test_the_deploy_workflows_exist() -> None:
    names = {p.name for p in user_workflows()}
    assert {"deploy-plan.yml", "deploy-apply.yml", "drift.yml"} <= names


@pytest.mark.parametrize("workflow", user_workflows(), ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_sha(workflow: Path) -> None:
    text = workflow.read_text()
    assert list(uses_of(yaml.safe_load(text))), f"{workflow.name} uses no action at all"
    assert unpinned(text) == []


@pytest.mark.parametrize("workflow", user_workflows(), ids=lambda p: p.name)
def test_each_pin_says_which_release_it_is(workflow: Path) -> None:
    # A bare SHA cannot be reviewed or updated by a person: the comment names the release.
    for line in workflow.read_text().splitlines():
        match = re.search(r"uses:\s*(\S+@[0-9a-f]{40})(.*)$", line)
        if match:
            assert re.match(r"\s+#\s*v\d+\.\d+\.\d+", match.group(2)), line.strip()


@pytest.mark.parametrize(
    "ref",
    [
        "actions/checkout@v7",
        "actions/checkout@main",
        "actions/checkout@3d3c42e",  # a short SHA can collide with a pushed commit
        "aws-actions/configure-aws-credentials@E6DE054238D6B7531B4EFFF3B6587D9AADE6A06C",
        "docker://alpine:3",
    ],
)
def test_a_tag_branch_short_sha_or_image_is_refused(ref: str) -> None:
    workflow = f"jobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: {ref}\n"
    assert unpinned(workflow) == [ref]


def test_local_reusable_workflows_need_no_pin() -> None:
    workflow = "jobs:\n  x:\n    uses: ./.github/workflows/terraform-plan.yml\n"
    assert unpinned(workflow) == []


def test_apply_runs_only_in_the_protected_environment_with_the_saved_plan() -> None:
    # The apply role trusts only the GitHub environment named after the Terraform environment
    # (environments/bootstrap); the plan role only "<env>-plan".
    apply = yaml.safe_load((WORKFLOWS / "terraform-apply.yml").read_text())
    job = apply["jobs"]["apply"]
    assert job["environment"] == "${{ inputs.environment }}"
    steps = " ".join(str(s.get("uses", "")) + str(s.get("run", "")) for s in job["steps"])
    assert "actions/download-artifact@" in steps
    assert "tf apply" in steps and "make apply" not in steps
    plan = yaml.safe_load((WORKFLOWS / "terraform-plan.yml").read_text())
    assert plan["jobs"]["plan"]["environment"] == "${{ inputs.environment }}-plan"


def test_drift_check_uses_detailed_exitcode_with_the_plan_role() -> None:
    drift = yaml.safe_load((WORKFLOWS / "drift.yml").read_text())
    job = drift["jobs"]["drift"]
    assert job["environment"] == "${{ matrix.environment }}-plan"
    assert "schedule" in drift[True]  # YAML 1.1 reads the key `on` as True
    assert any("-detailed-exitcode" in str(s.get("run", "")) for s in job["steps"])
