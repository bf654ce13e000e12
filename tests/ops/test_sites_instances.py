"""A site added or changed anywhere is in force on every running instance within a second
(issue 17): two gunicorn instances on one database, the change made by the `site` command (a
third process) and through one instance's admin API, watched through the other."""
from __future__ import annotations

import os
import subprocess
import time

import pytest
from sqlalchemy import create_engine, text
from support.app import SITE
from support.processes import ROOT, VENV_BIN, Gunicorn, http, migrate, wait_for

from widget_server.security import token_hash

BOUND = 1.0  # seconds: docs/sites.md
SHOP = "https://shop.example"
SHOP_PAGE = f"{SHOP}/kettle"
TOKEN = "sites-instances-admin-token"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Two instances (one worker each) sharing one SQLite file, as on a single machine."""
    folder = tmp_path_factory.mktemp("sites-pair")
    url = f"sqlite:///{folder / 'comments.db'}"
    migrate(url, folder)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO admin_tokens (name, token_hash, created_at) "
                                "VALUES ('ops', :hash, CURRENT_TIMESTAMP)"), {"hash": token_hash(TOKEN)})
    engine.dispose()
    env = {"WIDGET_DATABASE_URL": url, "WIDGET_INSTANCE_PATH": str(folder), "WIDGET_SECRET_KEY": "shared",
           "WIDGET_ALLOWED_ORIGINS": SITE, "WIDGET_RATELIMIT_ENABLED": "false"}
    a = Gunicorn(env, folder / "a.log", workers=1).start()
    b = Gunicorn(env, folder / "b.log", workers=1).start()
    try:
        yield a, b, env
    finally:
        a.stop()
        b.stop()


def site_command(env: dict[str, str], *args: str) -> None:
    run_env = {**{k: v for k, v in os.environ.items() if not k.startswith("WIDGET_")}, **env,
               "WIDGET_ENV_FILE": ""}
    subprocess.run([str(VENV_BIN / "widget-server"), "site", *args], cwd=ROOT, env=run_env, check=True,
                   capture_output=True, timeout=60)


def shop_thread(server: Gunicorn):
    return server.get(f"/api/v1/comments?url={SHOP_PAGE}", headers={"Origin": SHOP,
                                                                     "Accept-Encoding": "identity"})


def seen_within(predicate) -> float:
    """Seconds until ``predicate()`` holds (polled), failing past twice the bound."""
    start = time.monotonic()
    wait_for(predicate, 2 * BOUND, "the change on the other instance", interval=0.02)
    return time.monotonic() - start


def test_a_site_added_and_changed_elsewhere_is_in_force_within_a_second(pair):
    a, b, env = pair
    assert shop_thread(b).status == 403  # not a site yet; b knows its sites now

    site_command(env, "add", "shop", "--origin", SHOP)  # a third process: no instance is told
    took = seen_within(lambda: shop_thread(b).status == 200)
    assert took < BOUND, took
    assert shop_thread(b).json["config"]["moderation"] == "off"

    changed = http("PATCH", f"{a.url}/api/v1/admin/sites/shop", {"settings": {"moderation": "all"}},
                   headers={"Authorization": f"Bearer {TOKEN}"})
    assert changed.status == 200, changed.json
    took = seen_within(lambda: shop_thread(b).json["config"]["moderation"] == "all")
    assert took < BOUND, took
    assert shop_thread(a).json["config"]["moderation"] == "all"  # and at once where it was made
