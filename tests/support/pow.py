"""Proof of work for tests: a solver in Python's hashlib (what a bot would write), and a Flask test
client that asks for a challenge and solves it before each JSON post of a comment.

The test settings (``support.app.base_config``) give challenges a tiny cost, so solving takes
microseconds and every test that posts goes through the real challenge path. Tests that are
about the proof of work itself use a plain ``FlaskClient`` and pay (or refuse) for themselves.
"""
from __future__ import annotations

import base64
import hashlib
import json

from flask.testing import FlaskClient

TEST_COST = 20  # maxnumber of a newcomer's challenge in tests (base_config's WIDGET_POW_COST)


def solve_number(challenge: dict) -> int:
    """The number behind an ALTCHA v1 SHA-256 challenge, by trying them in order."""
    prefix = hashlib.sha256(challenge["salt"].encode())
    wanted = bytes.fromhex(challenge["challenge"])
    for number in range(challenge["maxnumber"] + 1):
        attempt = prefix.copy()
        attempt.update(b"%d" % number)
        if attempt.digest() == wanted:
            return number
    raise ValueError("no number up to maxnumber solves this challenge")


def payload(challenge: dict, number: int | None = None) -> str:
    """The ``altcha`` field of a post: base64 of the solution's JSON, as ALTCHA clients send it."""
    found = solve_number(challenge) if number is None else number
    body = {"algorithm": challenge["algorithm"], "challenge": challenge["challenge"], "number": found,
            "salt": challenge["salt"], "signature": challenge["signature"]}
    return base64.b64encode(json.dumps(body).encode()).decode()


def solved(client) -> str:
    """Ask ``client``'s server for a challenge and return the solved ``altcha`` field."""
    response = client.get("/api/v1/challenge", environ_base=getattr(client, "environ_base", None) or {})
    assert response.status_code == 200, response.json
    return payload(response.json)


class SolvingClient(FlaskClient):
    """A test client that, like the widget, solves a challenge for each new comment it posts
    as JSON without one (a post that names its own ``altcha``, even None, is left alone)."""

    def post(self, *args, **kwargs):
        path = args[0] if args else kwargs.get("path", "")
        body = kwargs.get("json")
        # Also with a bearer token, as the widget does for "Post anonymously" (the server ignores
        # the solution of a signed-in post; tests/comments/test_challenge.py checks it needs none).
        if path == "/api/v1/comments" and isinstance(body, dict) and "altcha" not in body:
            kwargs["json"] = {**body, "altcha": payload(self.get(
                "/api/v1/challenge", environ_base=kwargs.get("environ_base") or {}).json)}
        return super().post(*args, **kwargs)
