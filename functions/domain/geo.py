"""Country of an IP address and of a card issuer, for the fraud rules and the SCA scope.

``IpCountryTable`` stands in for a GeoIP database and ``IssuerCountryTable`` for a BIN table.
Their ``TEST`` instances cover only the documentation address ranges (RFC 5737, RFC 3849) and
the issuer prefixes of well-known test cards: local runs and tests use them, nothing else. A real
environment configures its sources: a data file in the package or on a layer (``from_file``:
JSON or ``network,country`` / ``prefix,country`` CSV, the shape a GeoIP or BIN vendor export is
cut down to), inline JSON for a few entries (``from_json``), or an adapter behind the same
``country_of`` method (``CountrySource``).

``EEA`` and ``SCA_AREA`` (the EEA and the United Kingdom, which applies the same RTS as
retained law) are the country sets the fraud rules and the PSD2 scope step use.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar, Protocol

_COUNTRY = re.compile(r"[A-Z]{2}")
_BIN_PREFIX = re.compile(r"[0-9]{1,8}")
MAX_BIN_DIGITS = 8
_HEADER_KEYS = frozenset({"network", "cidr", "prefix", "bin"})

# The European Economic Area: the 27 EU member states, Iceland, Liechtenstein and Norway.
EEA: frozenset[str] = frozenset(
    {
        *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
        *("IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
        *("IS", "LI", "NO"),
    }
)
# Where the SCA rules of the RTS apply: the EEA, and the UK (the RTS kept as UK law).
SCA_AREA: frozenset[str] = EEA | {"GB"}


def in_sca_area(country: str | None) -> bool | None:
    """Whether ``country`` applies the RTS; None when the country is unknown."""
    return None if country is None else country.upper() in SCA_AREA


class CountrySource(Protocol):
    """What the fraud and SCA steps need of a GeoIP or BIN source."""

    def country_of(self, key: str | None) -> str | None: ...


def _read_table(path: Path, what: str) -> dict[str, str]:
    """A JSON object, or CSV lines ``key,country`` (``#`` comments and a header allowed)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return _country_map(text, what)
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, country = (part.strip() for part in line.partition(","))
        if number == 1 and key.lower() in _HEADER_KEYS:
            continue
        entries[key] = _country(f"{path.name}:{number} {key}", country)
    return entries


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _country(key: str, value: object) -> str:
    # Shape only (two upper-case letters): the data source, not this check, owns the code list.
    if not isinstance(value, str) or _COUNTRY.fullmatch(value) is None:
        raise ValueError(f"the country of {key!r} must be an ISO 3166 alpha-2 code")
    return value


def _country_map(text: str, what: str) -> dict[str, str]:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{what} must be a JSON object")
    return {key: _country(key, value) for key, value in data.items()}


class IpCountryTable:
    """CIDR networks to countries; the longest matching prefix wins."""

    TEST: ClassVar[IpCountryTable]
    DEFAULT: ClassVar[IpCountryTable]  # the same as TEST; kept for callers of the old name

    __slots__ = ("_by_prefix",)

    def __init__(self, networks: Mapping[str, str]) -> None:
        by_prefix: dict[tuple[int, int], dict[IpNetwork, str]] = {}
        for cidr, country in networks.items():
            try:
                network = ipaddress.ip_network(cidr)
            except ValueError:
                raise ValueError(f"{cidr!r} is not a network in CIDR notation") from None
            key = (network.version, network.prefixlen)
            by_prefix.setdefault(key, {})[network] = _country(cidr, country)
        # Longest prefixes first: the first hit is the most specific network.
        self._by_prefix = sorted(by_prefix.items(), key=lambda item: -item[0][1])

    @classmethod
    def from_json(cls, text: str) -> IpCountryTable:
        """``{"192.0.2.0/24": "DE", "2001:db8::/32": "NL"}``. Raises ValueError."""
        return cls(_country_map(text, "an IP country table"))

    @classmethod
    def from_file(cls, path: str | Path) -> IpCountryTable:
        """A GeoIP extract: ``.json`` as ``from_json``, else CSV ``network,country``."""
        return cls(_read_table(Path(path), "an IP country table"))

    def country_of(self, ip: str | None) -> str | None:
        """The country of an IPv4 or IPv6 address; None when unknown or not an address."""
        if ip is None:
            return None
        try:
            address: IpAddress = ipaddress.ip_address(ip.strip())
        except ValueError:
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1
        for (version, prefixlen), table in self._by_prefix:
            if version == address.version:
                network = ipaddress.ip_network((address, prefixlen), strict=False)
                country = table.get(network)
                if country is not None:
                    return country
        return None


class IssuerCountryTable:
    """BIN prefixes (1 to 8 digits) to the issuer's country; the longest matching prefix wins."""

    TEST: ClassVar[IssuerCountryTable]
    DEFAULT: ClassVar[IssuerCountryTable]  # the same as TEST; kept for callers of the old name

    __slots__ = ("_prefixes",)

    def __init__(self, prefixes: Mapping[str, str]) -> None:
        checked: dict[str, str] = {}
        for prefix, country in prefixes.items():
            if not isinstance(prefix, str) or _BIN_PREFIX.fullmatch(prefix) is None:
                raise ValueError(f"{prefix!r} is not a BIN prefix of 1 to 8 digits")
            checked[prefix] = _country(prefix, country)
        self._prefixes = checked

    @classmethod
    def from_json(cls, text: str) -> IssuerCountryTable:
        """``{"424242": "GB", "4000": "US"}``. Raises ValueError."""
        return cls(_country_map(text, "an issuer country table"))

    @classmethod
    def from_file(cls, path: str | Path) -> IssuerCountryTable:
        """A BIN extract: ``.json`` as ``from_json``, else CSV ``prefix,country``."""
        return cls(_read_table(Path(path), "an issuer country table"))

    def country_of(self, first6: str | None) -> str | None:
        """The issuer country of a card from its leading digits (first six, or eight)."""
        if first6 is None or not first6.isascii() or not first6.isdigit():
            return None
        for length in range(min(len(first6), MAX_BIN_DIGITS), 0, -1):
            country = self._prefixes.get(first6[:length])
            if country is not None:
                return country
        return None


IpCountryTable.TEST = IpCountryTable(
    {
        "192.0.2.0/24": "DE",  # TEST-NET-1
        "198.51.100.0/24": "FR",  # TEST-NET-2
        "203.0.113.0/24": "US",  # TEST-NET-3
        "2001:db8::/32": "NL",  # IPv6 documentation prefix
    }
)

IssuerCountryTable.TEST = IssuerCountryTable(
    {
        "424242": "GB",
        "400000": "US",
        "555555": "DE",
        "378282": "US",
        "401288": "FR",
    }
)
IpCountryTable.DEFAULT = IpCountryTable.TEST
IssuerCountryTable.DEFAULT = IssuerCountryTable.TEST
