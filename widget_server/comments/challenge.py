"""Proof of work: ALTCHA v1 challenges for the widget, and the check of a post's solution.

A challenge is ``SHA-256(salt + number)`` for a secret random ``number`` up to
``maxnumber``, signed with a key derived from the instance secret; the salt carries
its expiry (``?expires=``), so the signature covers it. A client finds the number
by trying them (half of ``maxnumber`` on average) and sends back the base64 JSON
payload ALTCHA clients send. The ``altcha`` package makes and verifies them; this
module adds what it leaves to us:

- **the shape is checked first** (a dict of the five fields, each of its type), so
  no payload reaches the library in a form it would choke on;
- **expiry on the service clock** (``clock.now``, so tests move time);
- **single use across instances**: the challenge is written to ``spent_challenges``
  (an ``INSERT … ON CONFLICT DO NOTHING``) in the post's own transaction. Twenty
  concurrent replays of one solution make one row and one comment; a post refused
  after the check (a validation error) rolls back, and the reader may send it again;
- **the cost adapts** to what the server knows of the client when it asks (``cost``).

Checked in the JSON posting route (``comments/api.py``), never inside ``post()``: the
no-script form and imports, which cannot do the work, go through ``post()`` without it.
"""
from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from altcha import create_challenge_v1, extract_params_v1, verify_solution_v1
from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from .. import clock
from ..errors import APIError
from ..extensions import db
from ..models import PUBLISHED, SPAM, Comment, SpentChallenge
from ..security import derived_key, ip_hash

ALGORITHM = "SHA-256"
MAX_PAYLOAD = 2048  # characters of base64: a real payload is about 400
FIELDS = {"algorithm": str, "challenge": str, "number": int, "salt": str, "signature": str}
BURST_WINDOW = timedelta(minutes=10)
FAILURE_WINDOW = timedelta(days=1)
CLEANUP_ONE_IN = 50  # posts per sweep of expired spent challenges


def _key() -> str:
    return derived_key("altcha")


def cost(client_address: str, cfg: Mapping[str, object] | None = None) -> tuple[int, str]:
    """The ``maxnumber`` this client's next challenge gets, and why (for logs and tests).

    Known at the time of asking: the comments stored from this client's address.
    A trusted poster (``WIDGET_TRUST_MIN_APPROVED`` published, no spam) pays an eighth;
    one with a published comment half; a newcomer ``WIDGET_POW_COST``; posting in a
    burst (2 or more in ten minutes: 4×, 5 or more: 16×) or spam in the last day
    (4×) multiply it, up to 64×.
    """
    cfg = current_app.config if cfg is None else cfg  # the asking page's site's config
    base = cfg["POW_COST"]
    now = clock.now()
    published, recent, spam = db.session.execute(
        select(func.count().filter(Comment.state == PUBLISHED),
               func.count().filter(Comment.created_at >= now - BURST_WINDOW),
               func.count().filter(Comment.state == SPAM, Comment.created_at >= now - FAILURE_WINDOW))
        .where(Comment.ip_hash == ip_hash(client_address))
    ).one()
    factor, why = 1.0, ["newcomer"]
    if published >= cfg["TRUST_MIN_APPROVED"] and not spam:
        factor, why = 1 / 8, ["trusted"]
    elif published:
        factor, why = 1 / 2, ["returning"]
    if recent >= 5:
        factor, why = factor * 16, [*why, "burst"]
    elif recent >= 2:
        factor, why = factor * 4, [*why, "burst"]
    if spam:
        factor, why = factor * 4, [*why, "recent spam"]
    return max(10, min(int(base * factor), base * 64)), "+".join(why)


def issue(client_address: str, cfg: Mapping[str, object] | None = None) -> dict:
    """A new signed, expiring challenge in the ALTCHA v1 JSON shape the widgets read."""
    maxnumber, _why = cost(client_address, cfg)
    expires = clock.now() + timedelta(seconds=current_app.config["POW_TTL"])
    made = create_challenge_v1(algorithm=ALGORITHM, max_number=maxnumber, hmac_key=_key(),
                               expires=expires)
    return {"algorithm": made.algorithm, "challenge": made.challenge, "maxnumber": made.max_number,
            "salt": made.salt, "signature": made.signature}


def _invalid(why: str) -> APIError:
    return APIError(400, "challenge_invalid",
                    f"the proof of work is not valid ({why}): get a new challenge and solve it")


def decode(raw: object) -> dict:
    """The solution payload of a post's ``altcha`` field, its shape checked, or 400."""
    if raw is None or raw == "":
        raise APIError(400, "challenge_required",
                       "this server needs a proof of work with each post: GET /api/v1/challenge, "
                       "solve it, and send the solution as \"altcha\"")
    if not isinstance(raw, str) or len(raw) > MAX_PAYLOAD:
        raise _invalid("not a base64 string of the right size")
    try:
        payload = json.loads(base64.b64decode(raw, validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
        raise _invalid("not base64 of a JSON object") from None
    if not isinstance(payload, dict):
        raise _invalid("not base64 of a JSON object")
    for name, kind in FIELDS.items():
        value = payload.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _invalid(f"{name} is missing or of the wrong type")
    if payload["algorithm"] != ALGORITHM or not 0 <= payload["number"] < 2**53:
        raise _invalid("unexpected algorithm or number")
    return {name: payload[name] for name in FIELDS}


def check(raw: object) -> None:
    """Accept a post's proof of work once: valid, unexpired, never used; else 400.

    Marks the challenge spent in the current transaction (the caller commits with the
    comment).
    """
    payload = decode(raw)
    expires = extract_params_v1(payload).get("expires")
    try:
        expires_at = datetime.fromtimestamp(int(expires[0]), UTC)  # type: ignore[index]
    except (TypeError, ValueError, OverflowError, OSError):
        raise _invalid("it carries no expiry") from None
    if expires_at <= clock.now():
        raise _invalid("the challenge has expired")
    ok, _error = verify_solution_v1(payload, _key(), check_expires=False)
    if not ok:
        raise _invalid("wrong number or signature")
    if not _spend(payload["challenge"], expires_at):
        raise _invalid("this challenge was already used")


def _spend(challenge: str, expires_at) -> bool:
    """Record the challenge as used; False if it already was (by any instance)."""
    session = db.session
    if secrets.randbelow(CLEANUP_ONE_IN) == 0:  # now and then, not on every post: it takes a write lock
        session.execute(delete(SpentChallenge).where(SpentChallenge.expires_at < clock.now()))
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    inserted = session.execute(
        insert(SpentChallenge).values(challenge=challenge, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["challenge"]).returning(SpentChallenge.challenge)
    ).scalar_one_or_none()
    return inserted is not None
