"""Lambda: a health probe that proves a deployed package imports and runs (module examples)."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return {
        "status": "ok",
        "function": context.function_name,
        "stage": os.environ.get("STAGE", "unknown"),
    }
