"""The sites as each process knows them: which site an origin and a page belong to, each site's
config, the allowed origins, and a change made elsewhere seen within CHECK_EVERY."""
from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import update
from support import factories
from support.app import PAGE, SITE
from support.factories import SHOP

from widget_server import sites
from widget_server.models import Site


@pytest.mark.parametrize(("where", "site"), [
    (SITE, "default"),  # WIDGET_ALLOWED_ORIGINS: the default site's
    (SHOP, "shop"),
    ("HTTPS://Shop.Example:443", "shop"),  # any spelling of the origin
    ("https://elsewhere.example", "default"),  # not allowed, but the default's settings apply
    (None, "default"),
])
def test_an_origin_belongs_to_its_site_else_the_default(db_session, where, site):
    factories.site("shop", moderation="all")
    assert sites.for_origin(where).name == site


def test_pages_and_threads_belong_to_the_site_of_their_origin(db_session):
    row = factories.site("shop")
    assert sites.for_url(f"{SHOP}/products/1").id == row.id
    assert sites.for_url(PAGE).is_default
    assert sites.for_url("not a url").is_default
    thread = factories.comment(url=f"{SHOP}/products/1").thread
    assert thread.site_id == row.id and sites.for_thread(thread).name == "shop"


def test_a_sites_config_is_its_overrides_over_the_servers_settings(db_session, app):
    factories.site("shop", moderation="all", blocked_words="casino")
    shop, default = sites.by_name("shop"), sites.default()
    assert (shop.config["MODERATION"], shop.config["BLOCKED_WORDS"]) == ("all", ["casino"])
    assert shop.config["EDIT_WINDOW"] == app.config["EDIT_WINDOW"]  # not a site setting: the server's
    assert default.config["MODERATION"] == app.config["MODERATION"] == "off"
    assert shop.setting("moderation") == "all" and shop.overrides == {"blocked_words": "casino",
                                                                     "moderation": "all"}


def test_allowed_origins_are_every_sites_and_the_configured_ones(db_session):
    assert SHOP not in sites.allowed_origins()
    factories.site("shop", (SHOP, "https://www.shop.example"))
    assert {SITE, SHOP, "https://www.shop.example"} <= sites.allowed_origins()


def test_the_default_site_without_its_row_is_the_configuration(db_session):
    db_session.query(Site).delete()
    sites.registry.registry().invalidate()
    default = sites.default()
    assert default.id is None and default.is_default and SITE in sites.allowed_origins()


def test_accounts_are_the_servers_and_a_site_can_only_turn_them_off(db_session, app):
    app.config.update(ACCOUNTS="true")
    factories.site("shop", accounts="false")
    factories.site("blog2", ("https://two.example",), accounts="true")
    assert (sites.by_name("shop").accounts, sites.by_name("blog2").accounts, sites.default().accounts) == \
        (False, True, True)
    app.config.update(ACCOUNTS="false")
    assert not sites.by_name("blog2").accounts  # the server's off wins


def test_a_change_made_elsewhere_is_seen_within_check_every(db_session):
    row = factories.site("shop", moderation="all")
    assert sites.by_name("shop").config["MODERATION"] == "all"
    before = sites.generation()
    # As another process would: the row changes, nothing tells this one.
    db_session.execute(update(Site).where(Site.id == row.id).values(
        settings=json.dumps({"moderation": "first"}), version=Site.version + 1))
    time.sleep(sites.CHECK_EVERY + 0.05)
    assert sites.by_name("shop").config["MODERATION"] == "first"
    assert sites.generation() > before


def test_an_unchanged_stamp_keeps_the_snapshot(db_session):
    factories.site("shop")
    first = sites.current()
    sites.registry.registry().invalidate()
    assert sites.current() is first  # asked again, nothing changed: nothing read again
