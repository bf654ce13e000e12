"""Requests to a host a reader named (a Mastodon instance), checked where it counts: the peer
address of each connection, when it is made. Checking the name once and letting the request
resolve it again would let a name that answers with a public address for the check and a
private one for the request (DNS rebinding) aim the server at its own network."""
from __future__ import annotations

import ipaddress

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError


def public_address(text: str) -> bool:
    """A global unicast address: not private, loopback, link-local, shared, reserved or multicast."""
    address = ipaddress.ip_address(text.split("%")[0])
    return address.is_global and not address.is_multicast


class _Checked:
    def _new_conn(self):
        sock = super()._new_conn()  # type: ignore[misc]
        if not public_address(sock.getpeername()[0]):
            sock.close()
            raise NewConnectionError(self, f"refused: {self.host} is at a non-public address")  # type: ignore[attr-defined]
        return sock


class _HTTPConnection(_Checked, HTTPConnection):
    pass


class _HTTPSConnection(_Checked, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class PublicOnly(HTTPAdapter):
    """requests' adapter whose connections refuse a non-public peer."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def guard(session: requests.Session, *, private_ok: bool) -> requests.Session:
    """``session`` with every connection checked (unless WIDGET_OIDC_ALLOW_PRIVATE)."""
    if not private_ok:
        session.mount("http://", PublicOnly())
        session.mount("https://", PublicOnly())
    return session
