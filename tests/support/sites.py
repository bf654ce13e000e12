"""Two sites on one server, ``alpha`` and ``beta``, with rows of every kind an admin acts on:
what the site-role tests (tests/moderation/test_access.py, test_isolation.py) try each other's
tokens against."""
from __future__ import annotations

from support import factories
from widget_server.extensions import db
from widget_server.moderation import auth
from widget_server.sites import service as site_service

ADMIN = "/api/v1/admin"
ALPHA, BETA = "https://alpha.example", "https://beta.example"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def make_token(app, name: str, site: str | None = None, role: str | None = None) -> tuple[int, str]:
    """An admin token (global, or a site's owner or moderator): its id and the secret."""
    with app.app_context():
        site_id = site_service.get(site).id if site else None
        row, secret = auth.create(name, site_id, role)
        db.session.commit()
        return row.id, secret


def build_world(app, client, names: tuple[str, ...] = ("alpha", "beta")) -> dict:
    """The two sites, each with a published comment and a reply marked as spam, a ban (made through
    the API, so the audit log has an entry of each site) and tokens of every role.

    Returns the secrets (``global``, ``alpha_owner``, ``beta_moderator``, ...), the token ids
    (``alpha_owner_id``, ...) and per site the ids of its rows (``world["beta"]["comment"]``)."""
    origins = {"alpha": ALPHA, "beta": BETA}
    with app.app_context():
        for name in names:
            site_service.add(name, [origins[name]])
        db.session.commit()
        site_service.changed()
    found: dict = {"global": make_token(app, "root")[1]}
    for name, origin in ((name, origins[name]) for name in names):
        for role in ("owner", "moderator"):
            key = f"{name}_{role}"
            found[f"{key}_id"], found[key] = make_token(app, f"{name}-{role}", name, role)
        url = f"{origin}/post"
        with app.app_context():
            top = factories.comment(f"{name} published", url, email=f"reader@{name}.example")
            held = factories.stored_comment(f"{name} to hold", url, state="spam", parent_id=top.id)
            ids = {"comment": top.id, "held": held.id, "thread": top.thread_id}
        ban = client.post(f"{ADMIN}/bans", headers=bearer(found[f"{name}_moderator"]),
                          json={"kind": "email", "value": f"troll@{name}.example", "reason": f"{name} troll"})
        assert ban.status_code == 201, ban.json
        found[name] = {**ids, "ban": ban.json["ban"]["id"], "token": found[f"{name}_moderator_id"],
                       "url": url}
    return found


def filled(value, ids: dict):
    """A request body with ``"{name}"`` placeholders replaced by the ids of ``ids``."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, list):
        return [filled(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: filled(v, ids) for k, v in value.items()}
    return value
