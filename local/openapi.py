"""``make openapi``: write the Payment API's contract files from the code; ``--check`` (``make
openapi CHECK=1``) writes nothing and fails if any committed file differs from what the code
builds now (a route or a model changed without ``make openapi``).

- ``docs/openapi.json``: the merchant document (``functions/handlers/api_contract.py``), the same
  one ``GET /v1/openapi.json`` answers;
- ``modules/payment_workflow/models/<Model>.json``: each request body as the draft-4 model API
  Gateway validates it with (``local/gateway_models.py``), the IAM routes' bodies included;
- ``modules/payment_workflow/models/routes.json``: for each POST route, its model (null: it
  reads no body), and the routes the merchant document publishes. ``api_models.tf`` reads both.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from functions.handlers.api_contract import build_document, render
from local.gateway_models import request_models

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = Path("docs/openapi.json")
MODELS = Path("modules/payment_workflow/models")
ROUTES = MODELS / "routes.json"


def contract_files() -> dict[Path, str]:
    """Every generated file (relative to the repository) and its content."""
    published = build_document()
    models, routes = request_models(build_document(internal=True))
    files = {DOCUMENT: render(published)}
    for name, model in models.items():
        files[MODELS / f"{name}.json"] = render(model)
    operations = sorted(
        f"{method.upper()} {path}" for path, item in published["paths"].items() for method in item
    )
    files[ROUTES] = render({"request_models": routes, "published": operations})
    return files


def differences(root: Path, files: dict[Path, str]) -> list[str]:
    """The generated files that are missing or differ under ``root``, and stale model files."""
    found = [str(p) for p, text in files.items() if _read(root / p) != text]
    stale = {p.relative_to(root) for p in (root / MODELS).glob("*.json")} - set(files)
    return sorted(found + [f"{p} (no longer generated)" for p in stale])


def write(root: Path, files: dict[Path, str]) -> None:
    for stale in set((root / MODELS).glob("*.json")) - {root / p for p in files}:
        stale.unlink()
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a file differs")
    args = parser.parse_args(argv)
    files = contract_files()
    if args.check:
        drift = differences(ROOT, files)
        for line in drift:
            print(f"differs from the code: {line}", file=sys.stderr)
        if drift:
            print("run make openapi and commit the result", file=sys.stderr)
        return 1 if drift else 0
    write(ROOT, files)
    print(json.dumps({"written": sorted(str(p) for p in files)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
