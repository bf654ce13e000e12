"""``widget-server site add|list|set|remove`` (issue 17): every change checked whole, each mistake
one line, a running server (here: the test app) applies it at once."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from support.app import PAGE, SITE
from support.factories import SHOP

from widget_server.extensions import db
from widget_server.models import Comment, Site, Thread
from widget_server.ops.cli import main

SHOP_PAGE = f"{SHOP}/kettle"


def invoke(runner, *args):
    return runner.invoke(main, list(args))


def error_line(result) -> str:
    assert result.exit_code != 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip() and not line.startswith("{")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def test_add_set_list(runner, client):
    added = invoke(runner, "site", "add", "shop", "--origin", SHOP, "--origin", "https://www.shop.example",
                   "moderation=all")
    assert added.exit_code == 0, added.output
    assert "added site shop" in added.output
    assert invoke(runner, "site", "set", "shop", "pow=off", "default_lang=de", "sso_secret=" + "k" * 32
                  ).exit_code == 0
    listing = invoke(runner, "site", "list").output
    assert f"shop\t{SHOP}, https://www.shop.example\tthreads 0\t" in listing
    assert "moderation=all" in listing and "pow=off" in listing and "sso_secret=(set)" in listing
    assert "k" * 32 not in listing
    assert f"default\t{SITE}" in listing  # the configured origins are the default site's
    # The server applies it: the shop's pages are allowed and carry its settings.
    read = client.get("/api/v1/comments", query_string={"url": SHOP_PAGE}, headers={"Origin": SHOP})
    assert read.status_code == 200 and read.json["config"]["moderation"] == "all"
    assert read.json["config"]["pow"] is False
    assert invoke(runner, "site", "set", "shop", "--reset", "moderation").exit_code == 0
    read = client.get("/api/v1/comments", query_string={"url": SHOP_PAGE}, headers={"Origin": SHOP})
    assert read.json["config"]["moderation"] == "off"


@pytest.mark.parametrize(("args", "says"), [
    (["site", "add", "shop", "--origin", "shop.example"], "Error: 'shop.example' is not an origin"),
    (["site", "add", "Shop Two", "--origin", SHOP], "name must be 1-64 lower-case letters"),
    (["site", "add", "default", "--origin", SHOP], "already exists"),
    (["site", "add", "two", "--origin", SITE, "pow=maybe"], "pow must be one of on, off"),
    (["site", "set", "nowhere", "pow=off"], "no site called 'nowhere'"),
    (["site", "set", "default", "colour=red"], "Error: colour is not a site setting"),
    (["site", "set", "default", "moderation=sometimes"], "moderation must be one of off, all, first"),
    (["site", "set", "default", "webhook_urls=https://h.example"], "webhook_urls needs webhook_secret"),
    (["site", "set", "default", "moderation"], "write KEY=VALUE"),
    (["site", "remove", "default"], "the default site cannot be removed"),
    (["site", "remove", "nowhere"], "no site called 'nowhere'"),
])
def test_each_mistake_is_one_line_and_changes_nothing(runner, app, args, says):
    with app.app_context():
        before = db.session.execute(select(Site.name, Site.settings, Site.origins)).all()
    line = error_line(invoke(runner, *args))
    assert says in line, line
    with app.app_context():
        assert db.session.execute(select(Site.name, Site.settings, Site.origins)).all() == before


def test_remove_refuses_while_threads_exist_unless_it_exports_first(runner, app, client, tmp_path):
    assert invoke(runner, "site", "add", "shop", "--origin", SHOP, "pow=off").exit_code == 0
    for url in (SHOP_PAGE, PAGE):
        body = {"url": url, "text": "Hello"} | ({"altcha": None} if url == SHOP_PAGE else {})
        assert client.post("/api/v1/comments", json=body).status_code == 201
    refused = error_line(invoke(runner, "site", "remove", "shop"))
    assert "still has 1 thread(s)" in refused and "--export" in refused

    exported = tmp_path / "shop.json"
    removed = invoke(runner, "site", "remove", "shop", "--export", str(exported))
    assert removed.exit_code == 0, removed.output
    document = json.loads(exported.read_text())
    assert document["site"] == "shop"
    # The site itself too: restored into an empty server, the data comes back with its site.
    assert [(s["name"], json.loads(s["origins"]), json.loads(s["settings"])) for s in document["sites"]] == [
        ("shop", [SHOP], {"pow": "off"})]
    assert [t["url"] for t in document["threads"]] == [SHOP_PAGE]
    assert [c["text"] for c in document["comments"]] == ["Hello"]
    with app.app_context():
        assert db.session.execute(select(Thread.url)).scalars().all() == [PAGE]  # the blog's stays
        assert db.session.execute(select(func.count(Comment.id))).scalar() == 1
        assert "shop" not in db.session.execute(select(Site.name)).scalars().all()
    assert "shop" not in invoke(runner, "site", "list").output
    # Its origin is no longer allowed.
    assert client.get("/api/v1/comments", query_string={"url": SHOP_PAGE},
                      headers={"Origin": SHOP}).status_code == 403


def test_export_of_one_site(runner, client, tmp_path):
    assert invoke(runner, "site", "add", "shop", "--origin", SHOP, "pow=off").exit_code == 0
    assert client.post("/api/v1/comments", json={"url": SHOP_PAGE, "text": "Shop", "altcha": None}
                       ).status_code == 201
    assert client.post("/api/v1/comments", json={"url": PAGE, "text": "Blog"}).status_code == 201
    for site, texts in (("shop", ["Shop"]), ("default", ["Blog"])):
        out = tmp_path / f"{site}.json"
        assert invoke(runner, "export", str(out), "--site", site).exit_code == 0
        assert [c["text"] for c in json.loads(out.read_text())["comments"]] == texts
    unknown = invoke(runner, "export", str(tmp_path / "x"), "--site", "nope")
    assert "no site called 'nope'" in error_line(unknown)
