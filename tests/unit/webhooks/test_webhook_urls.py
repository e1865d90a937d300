"""SSRF: an endpoint is an https URL on a public host, never a private, loopback or link-local
address (the metadata service included); the local opt-outs admit what they name only."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.domain.webhooks import UrlPolicy, address_allowed, url_problem

STRICT = UrlPolicy()
LOCAL = UrlPolicy(allow_http=True, allow_private_addresses=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/payments",
        "https://hooks.example.com:8443/p?x=1",
        "https://93.184.216.34/hook",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
    ],
)
def test_public_https_urls_are_accepted(url: str) -> None:
    assert url_problem(url, STRICT) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://hooks.example.com/", "must use https"),
        ("ftp://hooks.example.com/", "must use https"),
        ("hooks.example.com/payments", "must use https"),
        ("https:///nohost", "must name a host"),
        ("https://user:pw@hooks.example.com/", "must not carry credentials"),
        ("https://localhost/hook", "must name a public host"),
        ("https://metadata.google.internal/", "must name a public host"),
        ("https://intranet/hook", "must name a public host"),
        ("https://127.0.0.1/", "must not be a private"),
        ("https://10.1.2.3/", "must not be a private"),
        ("https://172.16.0.1/", "must not be a private"),
        ("https://192.168.1.1/", "must not be a private"),
        ("https://169.254.169.254/latest/meta-data/", "must not be a private"),
        ("https://100.64.0.1/", "must not be a private"),
        ("https://[::1]/", "must not be a private"),
        ("https://[fe80::1]/", "must not be a private"),
        ("https://[fd00::1]/", "must not be a private"),
        ("https://[::ffff:169.254.169.254]/", "must not be a private"),
        ("https://0.0.0.0/", "must not be a private"),
        ("https://hooks.example.com/#frag", "must not have a fragment"),
        ("https://hooks.example.com:99999/", "absolute https URL"),
        ("https://hooks.example.com/" + "a" * 2048, "at most 2048"),
    ],
)
def test_unsafe_urls_are_refused(url: str, problem: str) -> None:
    refused = url_problem(url, STRICT)
    assert refused is not None and problem in refused


@given(st.ip_addresses())
def test_only_global_addresses_are_allowed_by_default(ip: ipaddress.IPv4Address) -> None:
    mapped = getattr(ip, "ipv4_mapped", None)
    effective = mapped or ip
    expected = effective.is_global and not effective.is_multicast
    assert address_allowed(str(ip), STRICT) is expected


def test_the_local_opt_outs_admit_the_loopback_receiver_over_http() -> None:
    assert url_problem("http://127.0.0.1:8089/hooks", LOCAL) is None
    assert url_problem("http://localhost:8089/hooks", LOCAL) is None
    # Each opt-out admits only what it names.
    assert url_problem("http://hooks.example.com/", UrlPolicy(allow_private_addresses=True))
    assert url_problem("http://127.0.0.1:8089/", UrlPolicy(allow_http=True))


def test_multicast_and_unspecified_addresses_are_never_allowed() -> None:
    assert not address_allowed("224.0.0.1", LOCAL)
    assert not address_allowed("0.0.0.0", LOCAL)  # noqa: S104  # an address, not a bind
    assert not address_allowed("not-an-ip", LOCAL)
