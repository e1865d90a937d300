"""Every environment variable the functions read, in one place, validated once per container."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True, slots=True)
class Settings:
    environment: str
    payments_table: str | None

    @classmethod
    def from_environ(cls) -> Settings:
        return cls(
            environment=os.environ.get("PAYMENTS_ENVIRONMENT", "local"),
            payments_table=os.environ.get("PAYMENTS_TABLE_NAME") or None,
        )


@cache
def settings() -> Settings:
    return Settings.from_environ()
