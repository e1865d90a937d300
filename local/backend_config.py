"""``make backend-config``: write each environment's ``backend.hcl`` from the bootstrap's outputs.

``environments/bootstrap`` makes the state bucket and its key, so it alone knows their names; it
states each environment's backend settings as the ``backend_hcl`` output (the aws provider has no
way to write a local file). This copies them beside the environments they configure, and the
bootstrap's own as ``environments/bootstrap/backend.hcl`` for moving its state into the bucket.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from local.toolchain import REPO_ROOT, terraform_env

BOOTSTRAP_DIR = REPO_ROOT / "environments" / "bootstrap"


def read_outputs(bootstrap_dir: Path) -> dict[str, object]:
    done = subprocess.run(
        ["terraform", f"-chdir={bootstrap_dir}", "output", "-json"],
        env={**os.environ, **terraform_env()},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(
            "error: cannot read environments/bootstrap's outputs: apply it first "
            "(environments/bootstrap/README.md)"
        )
    raw = json.loads(done.stdout or "{}")
    return {name: output["value"] for name, output in raw.items()}


def write_backend_files(outputs: dict[str, object], environments_dir: Path) -> list[Path]:
    """Writes environments/<env>/backend.hcl for each environment the bootstrap configured.

    Refuses an environment with no root module: a typo in the bootstrap's ``environments``
    would otherwise leave a file nobody reads and the real environment without one.
    """
    per_environment = outputs.get("backend_hcl")
    if not isinstance(per_environment, dict) or not per_environment:
        raise SystemExit(
            "error: the bootstrap has no backend_hcl output: apply environments/bootstrap first"
        )
    files: dict[Path, str] = {}
    for env, content in sorted(per_environment.items()):
        env_dir = environments_dir / env
        if not (env_dir / "backend.tf").is_file():
            raise SystemExit(
                f"error: the bootstrap configures {env!r}, but {env_dir} has no backend.tf"
            )
        files[env_dir / "backend.hcl"] = str(content)
    own = outputs.get("bootstrap_backend_hcl")
    if isinstance(own, str):
        files[environments_dir / "bootstrap" / "backend.hcl"] = own
    for path, content in files.items():
        path.write_text(content)
    return list(files)


def main() -> int:
    written = write_backend_files(read_outputs(BOOTSTRAP_DIR), REPO_ROOT / "environments")
    for path in written:
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
