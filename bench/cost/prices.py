"""Price files: one per Region, versioned, every entry with the page it comes from and the date
it was read. An entry without a source or a retrieval date is refused, not priced."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

PRICES_DIR = Path(__file__).resolve().parent / "prices"
DEFAULT_REGION = "eu-west-2"


class Price(BaseModel):
    """``usd`` for every ``per`` units of ``unit``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    usd: float = Field(ge=0)
    per: float = Field(gt=0)
    unit: str = Field(min_length=1)
    source: HttpUrl
    retrieved: dt.date
    verified: bool
    note: str | None = None

    @property
    def unit_usd(self) -> float:
        return self.usd / self.per


class PriceBook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    region: str
    version: dt.date
    currency: str = Field(pattern="^USD$")
    hours_per_month: float = Field(gt=0)
    about: str
    prices: dict[str, Price]

    def unit_usd(self, key: str) -> float:
        if key not in self.prices:
            raise KeyError(f"price file {self.region} {self.version} has no price {key!r}")
        return self.prices[key].unit_usd


def load(region: str = DEFAULT_REGION, directory: Path = PRICES_DIR) -> PriceBook:
    path = directory / f"{region}.json"
    if not path.exists():
        known = sorted(p.stem for p in directory.glob("*.json"))
        raise FileNotFoundError(f"no price file for {region} (have: {', '.join(known)})")
    return PriceBook.model_validate(json.loads(path.read_text()))


def regions(directory: Path = PRICES_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.json"))
