"""The canonical client address and the keyed hashes made from it (widget_server/security.py).

Rate limits, bans, likes, the duplicate rule and log tags all key on
``client_address``: these tables are what "one client" means.
"""
from __future__ import annotations

import hashlib
import hmac

import pytest
from flask import Flask

from widget_server.security import (
    client_address,
    client_hash,
    imported_ip_hash,
    ip_hash,
    ip_hashes,
    voter_hash,
)

SECRET = "test-secret-key"

# Each row: addresses that are one client. IPv6 clients are keyed by their /64 (a subscriber
# holds a whole /64, so new host bits must not buy a fresh budget); an IPv4-mapped IPv6 address
# is its IPv4 address; a zone index or a port a proxy wrote along is not part of the address.
SAME_CLIENT = [
    ("2001:db8::1", "2001:0db8:0:0::1", "2001:DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1%eth0"),
    ("2001:db8:0:7::1", "2001:db8:0:7:ffff:ffff:ffff:ffff", "2001:db8:0:7:1234:5678:9abc:def0"),
    ("10.0.0.1", "::ffff:10.0.0.1", "::FFFF:a00:1", "0:0:0:0:0:ffff:10.0.0.1", "10.0.0.1:51234"),
    ("2001:db8::1", "[2001:db8::2]:443", " 2001:db8::3 "),
    (None, "", "unknown", "not an address", "300.1.1.1", "10.0.0.1, 10.0.0.2", "[::1"),
]
OTHER_CLIENTS = [
    ("2001:db8::1", "2001:db8:0:1::1"),  # the next /64
    ("10.0.0.1", "10.0.0.2"),
    ("::ffff:10.0.0.1", "10.0.0.2"),
    ("10.0.0.1", "unknown"),
    ("10.0.0.1", "::a00:1"),  # IPv4-compatible (deprecated) is plain IPv6, not the IPv4 address
    ("10.0.0.1", "2001:db8::1"),
]


@pytest.fixture(autouse=True)
def secret():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    with app.app_context():
        yield


def old_ip_hash(spelled: str) -> str:
    """What releases before canonical addresses stored: the hash of the address as spelled."""
    return hmac.new(SECRET.encode(), f"ip:{spelled}".encode(), hashlib.sha256).hexdigest()[:32]


@pytest.mark.parametrize("spellings", SAME_CLIENT)
@pytest.mark.parametrize("make_key", [client_address, ip_hash, voter_hash, client_hash])
def test_spellings_of_one_client_are_one_key(make_key, spellings):
    assert len({make_key(address) for address in spellings}) == 1


@pytest.mark.parametrize(("one", "other"), OTHER_CLIENTS)
@pytest.mark.parametrize("make_key", [client_address, ip_hash, voter_hash, client_hash])
def test_different_clients_are_different_keys(make_key, one, other):
    assert make_key(one) != make_key(other)


@pytest.mark.parametrize(("raw", "canonical"), [
    ("203.0.113.7", "203.0.113.7"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    ("2001:DB8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("fe80::1%eth0", "fe80::/64"),
    ("", "unknown"),
])
def test_the_canonical_forms(raw, canonical):
    assert client_address(raw) == canonical


def test_each_purpose_has_its_own_hash():
    """The rate-limit key, the stored hash and the like hash of one client cannot be linked."""
    assert len({ip_hash("10.0.0.1"), voter_hash("10.0.0.1"), client_hash("10.0.0.1")}) == 3


def test_ipv4_hashes_stay_what_earlier_releases_stored():
    """Comments and bans stored before addresses were canonical keep meaning the same IPv4 poster."""
    assert ip_hash("203.0.113.7") == ip_hash("::ffff:203.0.113.7") == old_ip_hash("203.0.113.7")


def test_bans_also_match_the_hash_an_earlier_release_stored_for_ipv6():
    assert set(ip_hashes("2001:db8:5::1")) == {ip_hash("2001:db8:5::1"), old_ip_hash("2001:db8:5::1")}
    assert set(ip_hashes("203.0.113.7")) == {ip_hash("203.0.113.7")}  # one hash, asked twice


@pytest.mark.parametrize(("address", "kept"), [(None, False), ("", False), ("not an address", False),
                                               ("10.0.0.1", True), ("::ffff:10.0.0.1", True)])
def test_an_imported_comment_without_a_usable_address_has_no_ip_hash(address, kept):
    """Else every such comment would be one "unknown" poster, and a ban of one would ban them all."""
    assert imported_ip_hash(address) == (ip_hash("10.0.0.1") if kept else "")
