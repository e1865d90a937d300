from __future__ import annotations

from pathlib import Path

import pytest

from functions.domain.geo import EEA, IpCountryTable, IssuerCountryTable, in_sca_area


@pytest.mark.parametrize(
    ("ip", "country"),
    [
        ("192.0.2.1", "DE"),
        ("192.0.2.255", "DE"),
        ("198.51.100.7", "FR"),
        ("203.0.113.200", "US"),
        ("2001:db8::1", "NL"),
        ("2001:db8:ffff::1", "NL"),
        ("::ffff:192.0.2.9", "DE"),  # IPv4-mapped IPv6
        (" 203.0.113.1 ", "US"),
        ("192.0.3.1", None),
        ("2001:db9::1", None),
        ("10.0.0.1", None),
        ("not-an-ip", None),
        ("192.0.2.0/24", None),
        ("", None),
        (None, None),
    ],
)
def test_default_ip_table(ip: str | None, country: str | None) -> None:
    assert IpCountryTable.TEST.country_of(ip) == country


def test_longest_ip_prefix_wins_whatever_the_order() -> None:
    entries = {"10.0.0.0/8": "DE", "10.1.2.0/24": "FR", "10.1.0.0/16": "US", "::/0": "NL"}
    for table in (IpCountryTable(entries), IpCountryTable(dict(reversed(entries.items())))):
        assert table.country_of("10.1.2.3") == "FR"
        assert table.country_of("10.1.3.3") == "US"
        assert table.country_of("10.2.0.1") == "DE"
        assert table.country_of("11.0.0.1") is None  # ::/0 is IPv6 only
        assert table.country_of("fe80::1%eth0") == "NL"


def test_ip_table_from_json() -> None:
    table = IpCountryTable.from_json('{"0.0.0.0/0": "SE", "2001:db8::/48": "NO"}')
    assert table.country_of("8.8.8.8") == "SE"
    assert table.country_of("2001:db8::5") == "NO"
    assert table.country_of("2001:db8:1::5") is None


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('{"192.0.2.1/24": "DE"}', "192.0.2.1/24"),  # host bits set: a typo, not a network
        ('{"192.0.2.0/33": "DE"}', "192.0.2.0/33"),
        ('{"nowhere": "DE"}', "nowhere"),
        ('{"192.0.2.0/24": "de"}', "192.0.2.0/24"),
        ('{"192.0.2.0/24": "DEU"}', "192.0.2.0/24"),
        ('{"192.0.2.0/24": 276}', "192.0.2.0/24"),
        ('["192.0.2.0/24"]', "JSON object"),
    ],
)
def test_ip_table_rejects_bad_entries(text: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        IpCountryTable.from_json(text)


@pytest.mark.parametrize(
    ("first6", "country"),
    [
        ("424242", "GB"),
        ("400000", "US"),
        ("555555", "DE"),
        ("378282", "US"),
        ("401288", "FR"),
        ("42424242", "GB"),  # an eight-digit BIN under a six-digit prefix
        ("424243", None),
        ("42424", None),  # shorter than the prefix
        ("", None),
        ("4242ab", None),
        (None, None),
    ],
)
def test_default_issuer_table(first6: str | None, country: str | None) -> None:
    assert IssuerCountryTable.TEST.country_of(first6) == country


def test_longest_bin_prefix_wins() -> None:
    table = IssuerCountryTable({"4": "US", "4000": "CA", "40001234": "MX", "400012": "BR"})
    assert table.country_of("400012") == "BR"
    assert table.country_of("40001234") == "MX"
    assert table.country_of("40001299") == "BR"
    assert table.country_of("400099") == "CA"
    assert table.country_of("499999") == "US"
    assert table.country_of("512345") is None


def test_issuer_table_from_json() -> None:
    table = IssuerCountryTable.from_json('{"51": "IT"}')
    assert table.country_of("510510") == "IT"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('{"123456789": "DE"}', "123456789"),  # nine digits
        ('{"": "DE"}', "''"),
        ('{"4x": "DE"}', "4x"),
        ('{"4242": "gb"}', "4242"),
        ('{"4242": null}', "4242"),
    ],
)
def test_issuer_table_rejects_bad_entries(text: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        IssuerCountryTable.from_json(text)


def test_item13_sources_are_data_files_a_real_environment_configures(tmp_path: Path) -> None:
    bins = tmp_path / "bins.csv"
    bins.write_text("prefix,country\n# a vendor extract cut to two columns\n510510,IT\n4571,DK\n")
    ips = tmp_path / "geoip.json"
    ips.write_text('{"81.0.0.0/8": "DE", "2a02::/16": "FR"}')
    assert IssuerCountryTable.from_file(bins).country_of("457173") == "DK"
    assert IssuerCountryTable.from_file(bins).country_of("424242") is None  # no test prefixes
    assert IpCountryTable.from_file(ips).country_of("81.2.3.4") == "DE"
    ranges = tmp_path / "geoip.csv"
    ranges.write_text("network,country\n81.0.0.0/8,DE\n")
    assert IpCountryTable.from_file(ranges).country_of("81.2.3.4") == "DE"


def test_a_bad_data_file_names_its_line(tmp_path: Path) -> None:
    bins = tmp_path / "bins.csv"
    bins.write_text("510510,IT\n4571,dk\n")
    with pytest.raises(ValueError, match=r"bins\.csv:2"):
        IssuerCountryTable.from_file(bins)


@pytest.mark.parametrize(
    ("country", "inside"),
    [
        ("DE", True),
        ("NO", True),
        ("LI", True),
        ("GB", True),
        ("gb", True),
        ("CH", False),
        ("US", False),
        (None, None),
    ],
)
def test_sca_area_is_the_eea_and_the_uk(country: str | None, inside: bool | None) -> None:
    assert in_sca_area(country) is inside
    assert "GB" not in EEA and len(EEA) == 30
