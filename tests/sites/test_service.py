"""Adding, changing and removing sites: checked whole before anything is written; threads follow
their pages' origins."""
from __future__ import annotations

import json

import pytest
from support import factories
from support.app import PAGE
from support.factories import SHOP

from widget_server import sites
from widget_server.errors import APIError
from widget_server.models import Site
from widget_server.sites import service


def test_adding_a_site_moves_the_default_sites_threads_on_its_origins(db_session):
    old = factories.comment(url=f"{SHOP}/a").thread
    kept = factories.comment(url=PAGE).thread
    row = factories.site("shop")
    db_session.refresh(old)
    db_session.refresh(kept)
    assert old.site_id == row.id and sites.for_thread(kept).is_default
    assert service.thread_count(row.id) == 1


def test_changing_origins_moves_threads_both_ways(db_session):
    row = factories.site("shop")
    thread = factories.comment(url=f"{SHOP}/a").thread
    service.update_site("shop", origins=["https://new.shop.example"])
    db_session.commit()
    service.changed()
    db_session.refresh(thread)
    assert sites.for_thread(thread).is_default
    assert json.loads(row.origins) == ["https://new.shop.example"] and row.version == 2


@pytest.mark.parametrize(("call", "status", "code"), [
    (lambda: service.add("Shop!", [SHOP]), 400, "validation_error"),
    (lambda: service.add("default", [SHOP]), 409, "site_exists"),
    (lambda: service.add("other", []), 400, "validation_error"),
    (lambda: service.add("other", ["shop.example"]), 400, "validation_error"),  # no scheme
    (lambda: service.add("other", [f"{SHOP}/path"]), 400, "validation_error"),
    (lambda: service.add("other", [SHOP]), 409, "origin_taken"),
    (lambda: service.add("other", ["https://o.example"], {"pow": "maybe"}), 400, "validation_error"),
    (lambda: service.add("other", ["https://o.example"], {"webhook_urls": "https://h.example"}), 400,
     "validation_error"),
    (lambda: service.update_site("nowhere", {"pow": "off"}), 404, "not_found"),
    (lambda: service.update_site("shop", {"colour": "red"}), 400, "validation_error"),
    (lambda: service.update_site("shop", reset=["colour"]), 400, "validation_error"),
    (lambda: service.remove("default"), 409, "default_site"),
    (lambda: service.remove("nowhere"), 404, "not_found"),
])
def test_bad_changes_are_refused_and_change_nothing(db_session, call, status, code):
    factories.site("shop", moderation="all")
    before = [(r.name, r.origins, r.settings, r.version) for r in service.all_rows()]
    with pytest.raises(APIError) as raised:
        call()
    assert (raised.value.status, raised.value.code) == (status, code)
    assert [(r.name, r.origins, r.settings, r.version) for r in service.all_rows()] == before


def test_set_and_reset_keep_the_values_as_written(db_session):
    factories.site("shop", moderation="all")
    row = service.update_site("shop", {"pow": "off", "blocked_words": ["buy now", "casino"]})
    assert json.loads(row.settings) == {"blocked_words": "buy now,casino", "moderation": "all", "pow": "off"}
    row = service.update_site("shop", reset=["moderation"])
    db_session.commit()
    service.changed()
    assert json.loads(row.settings) == {"blocked_words": "buy now,casino", "pow": "off"}
    assert sites.by_name("shop").config["MODERATION"] == "off"  # the server's again


def test_a_site_with_threads_is_not_removed(db_session):
    factories.site("shop")
    factories.comment(url=f"{SHOP}/a")
    with pytest.raises(APIError) as raised:
        service.remove("shop")
    assert raised.value.code == "site_has_threads"
    assert db_session.query(Site).filter_by(name="shop").one()


def test_delete_data_then_remove(db_session):
    row = factories.site("shop")
    factories.comment(url=f"{SHOP}/a")
    assert service.delete_data(row.id) == 1
    service.remove("shop")
    db_session.commit()
    service.changed()
    assert sites.by_name("shop") is None and sites.for_origin(SHOP).is_default


def test_the_view_hides_secrets(db_session):
    row = factories.site("shop", sso_secret="s" * 32, webhook_urls="https://h.example",
                         webhook_secret="hook")
    shown = service.view(row)
    assert shown["settings"]["sso_secret"] == "(set)" and shown["settings"]["webhook_secret"] == "(set)"
    assert "s" * 32 not in json.dumps(shown) and shown["threads"] == 0
