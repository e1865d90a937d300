"""Where a report comes from: the commit, the time, the tool and policy versions.

An assessor compares two reports by these fields: the same commit and policy version scanned
with the same checkov must give the same results. The policy version is a digest of everything
that decides a result (the policy files, the mapping and the exceptions register), so a report
says exactly which rules it applied even from an uncommitted tree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
import subprocess
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from compliance.engine import POLICIES_DIR, REPO_ROOT


@dataclass(frozen=True)
class Provenance:
    commit: str  # full SHA, with "+dirty" when the scanned tree has uncommitted changes
    generated_at: str  # ISO 8601, UTC
    checkov: str
    policies: str  # "<project version>+<digest of the rules>"
    python: str

    @property
    def tool_versions(self) -> dict[str, str]:
        return {"checkov": self.checkov, "policies": self.policies, "python": self.python}


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def commit(scanned: tuple[Path, ...] = ()) -> str:
    """HEAD, marked ``+dirty`` when the rules or the scanned directories inside the repository
    differ from it (the results then belong to no commit)."""
    sha = _git("rev-parse", "HEAD")
    if not sha:
        return "unknown (not a git checkout)"
    paths = ["policies", "compliance/mapping.yaml", "compliance/exceptions.yaml"]
    for path in scanned:
        resolved = path.resolve()
        if resolved.is_relative_to(REPO_ROOT):
            paths.append(str(resolved.relative_to(REPO_ROOT)) or ".")
    dirty = _git("status", "--porcelain", "--", *paths)
    return f"{sha}+dirty" if dirty else sha


def policies_digest(extra: tuple[Path, ...] = ()) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in POLICIES_DIR.rglob("*") if p.suffix in (".py", ".yaml", ".yml"))
    for path in [*files, *extra]:
        if path.is_file() and "__pycache__" not in path.parts:
            name = path.resolve()
            label = name.relative_to(REPO_ROOT) if name.is_relative_to(REPO_ROOT) else name.name
            digest.update(str(label).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def project_version() -> str:
    try:
        project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text()).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return "unknown"
    return str(project.get("version", "unknown"))


def collect(
    mapping_path: Path,
    exceptions_path: Path,
    scanned: tuple[Path, ...] = (),
    now: dt.datetime | None = None,
) -> Provenance:
    now = now or dt.datetime.now(dt.UTC)
    return Provenance(
        commit=commit(scanned),
        generated_at=now.isoformat(timespec="seconds"),
        checkov=_version("checkov"),
        policies=f"{project_version()}+{policies_digest((mapping_path, exceptions_path))}",
        python=platform.python_version(),
    )
