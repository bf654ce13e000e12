"""The plans of the hot queries: each request below is made for real, every statement it sends
that reads ``comments`` is captured and explained, and each must reach its rows through an
index (the named one among them) and never sort or scan the whole table.

PostgreSQL is asked with ``enable_seqscan`` off, so a few rows stand for two million: what the
planner still cannot do through an index (a sort of every row, a scan) shows, and so does a
missing index. SQLite is asked with EXPLAIN QUERY PLAN. The figures at two million comments are
in docs/performance.md ("At scale").
"""
from __future__ import annotations

import contextlib
import re

import pytest
from support import factories, sql
from support.app import PAGE, SITE

from widget_server.extensions import db

OTHER_PAGE = f"{SITE}/2026/12/other"
ADMIN = "/api/v1/admin"
# The cursor's row comparison as the index's start (PostgreSQL, then SQLite), not a filter.
KEY_IN_INDEX = re.compile(r"Index Cond: .*ROW\(comments\.created_at, comments\.id\) <|"
                          r"Index Cond: .*ROW\(created_at, id\) <|USING INDEX \S+ \(.*created_at<\?\)")
READS_COMMENTS = re.compile(r"\b(FROM|JOIN)\s+comments\b", re.IGNORECASE)
READS_COUNTS = re.compile(r"\b(FROM|JOIN)\s+comment_counts\b", re.IGNORECASE)


@pytest.fixture
def config_overrides() -> dict:
    return {"MODERATION": "first"}  # so there are held comments, and posting looks addresses up


@pytest.fixture
def filled(app, post) -> dict:
    """Two threads, replies, held and published comments; what the requests below need."""
    for n in range(6):
        post(f"comment {n}", email=f"reader{n % 2}@example.org")
        post(f"other {n}", url=OTHER_PAGE)
    with app.app_context():
        token = factories.admin_token()
    return {"Authorization": f"Bearer {token}"}


@contextlib.contextmanager
def captured(app, reads: re.Pattern = READS_COMMENTS):
    """Every SELECT that reads comments (or what ``reads`` matches), with its parameters, sent
    while the block runs (read after it)."""
    found: list[tuple[str, object]] = []
    with sql.statements(app, parameters=True) as seen:
        yield found
    found.extend((statement, given) for statement, given in seen
                 if statement.lstrip().upper().startswith("SELECT") and reads.search(statement))


def plan(app, statement: str, parameters) -> str:
    """The plan of one captured statement, as text."""
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if db.engine.dialect.name == "postgresql":
                cursor.execute("SET enable_seqscan = off")
                cursor.execute("EXPLAIN " + statement, parameters)
                text = "\n".join(row[0] for row in cursor.fetchall())
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                text = "\n".join(row[-1] for row in cursor.fetchall())
            raw.rollback()
            return text
        finally:
            raw.close()


def whole_table(plan_text: str) -> list[str]:
    """The lines of a plan that read or sort every row of comments."""
    bad = []
    for line in plan_text.splitlines():
        if re.search(r"Seq Scan on comments|^SCAN comments$|USE TEMP B-TREE|Sort|HashAggregate|"
                     r"GroupAggregate", line.strip()):
            bad.append(line.strip())
    return bad


def _cursor_of(client, headers, query: str) -> str:
    answer = client.get(f"{ADMIN}/comments?{query}", headers=headers).json
    assert answer["next_cursor"], answer
    return answer["next_cursor"]


# The indexes that start with the thread serve a thread's rows; which one the planner takes
# depends on its statistics (on a few rows, PostgreSQL may take the tree cache's for counts; on
# two million, bench/scale.py's plans show ix_comments_thread_state).
BY_THREAD = ("ix_comments_thread_state", "ix_comments_thread_created", "ix_comments_thread_tree")
HOT = [
    ("recent", "get", f"{ADMIN}/comments?limit=2", ("ix_comments_created",)),
    ("recent, a deeper page", "get", f"{ADMIN}/comments?limit=2&cursor={{recent}}", ("ix_comments_created",)),
    ("held, a deeper page", "get", f"{ADMIN}/comments?state=pending&limit=2&cursor={{held}}",
     ("ix_comments_state_created",)),
    ("one thread's", "get", f"{ADMIN}/comments?limit=2&url={PAGE}&cursor={{thread}}",
     ("ix_comments_thread_created",)),
    ("threads list", "get", f"{ADMIN}/threads?limit=1", BY_THREAD),
    ("thread feed", "get", f"/api/v1/feed.atom?url={PAGE}", BY_THREAD),
    ("site feed", "get", "/api/v1/feed.atom", ("ix_comments_state_created",)),
    ("counts", "get", f"/api/v1/counts?url={PAGE}&url={OTHER_PAGE}", BY_THREAD),
    ("a post, moderation=first", "post", "/api/v1/comments", ("ix_comments_email_key",)),
]


@pytest.mark.parametrize(("name", "method", "path", "indexes"), HOT, ids=[h[0] for h in HOT])
def test_hot_query_is_served_by_an_index(app, client, filled, name, method, path, indexes):
    cursors = {"recent": _cursor_of(client, filled, "limit=2"),
               "held": _cursor_of(client, filled, "state=pending&limit=2"),
               "thread": _cursor_of(client, filled, f"limit=2&url={PAGE}")}
    with captured(app) as statements:
        if method == "get":
            response = client.get(path.format(**cursors), headers=filled)
        else:
            response = client.post(path, json={"url": PAGE, "text": "new words",
                                               "email": "Reader0@Example.org"})
    assert response.status_code in (200, 201, 202), response.data
    assert statements, f"{name}: no statement read comments"
    plans = [plan(app, statement, parameters) for statement, parameters in statements]
    shown = "\n---\n".join(plans)
    assert any(i in p for p in plans for i in indexes), f"{name}: none of {indexes}:\n{shown}"
    for p in plans:
        assert not whole_table(p), f"{name}: reads or sorts every row:\n{p}"
    if "cursor=" in path:  # a deep page starts where the cursor points, not at the newest row
        assert any(KEY_IN_INDEX.search(p) for p in plans), f"{name}: the cursor only filters:\n{shown}"


def test_stats_never_read_the_comments_table(app, client, filled):
    with captured(app) as statements:
        answer = client.get(f"{ADMIN}/stats?days=30", headers=filled)
    assert answer.status_code == 200
    assert answer.json["totals"]["published"] + answer.json["totals"]["pending"] == 12
    assert statements == []


@pytest.mark.parametrize("site", ["shop", "default"])
def test_a_sites_stats_read_only_its_counts_through_their_site_index(app, client, post, frozen_clock, filled,
                                                                    site):
    """A site's token reads the site's rows of comment_counts through ix_comment_counts_site_day
    (the default site's: its id's and the NULL ones of threads from before its row), past days
    folded first; never the comments, never every count."""
    from support.factories import SHOP

    from widget_server import sites
    from widget_server.moderation.auth import create_token
    from widget_server.sites import service as sites_service

    with app.app_context():
        shop = factories.site("shop", (SHOP,))
        sites_service.update_site("default")  # its row, made now: filled's threads have no site
        db.session.commit()
        sites_service.changed()
        token = create_token(site, shop.id if site == "shop" else sites.default().id, "moderator")
        db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    for n in range(3):
        post(f"sold {n}", url=f"{SHOP}/p{n % 2}")
    frozen_clock.advance(days=1)  # yesterday's rows are folded on the read
    post("today", url=f"{SHOP}/p0")
    post("home", url=f"{PAGE}/new")
    with captured(app) as comments, captured(app, READS_COUNTS) as counts:
        answer = client.get(f"{ADMIN}/stats?days=30", headers=headers)
    assert answer.status_code == 200, answer.json
    assert sum(answer.json["totals"].values()) == (4 if site == "shop" else 13)
    assert comments == [] and len(counts) >= 3  # the fold's look, the days, the totals
    for statement, parameters in counts:
        text = plan(app, statement, parameters)
        assert "ix_comment_counts_site_day" in text, text
        assert not re.search(r"Seq Scan on comment_counts|^SCAN comment_counts$|ix_comment_counts_day_state",
                             text, re.MULTILINE), text


def test_a_large_threads_next_version_reads_only_an_index_for_what_changed(app, client, post, monkeypatch):
    """After a post, the tree of a large thread is built from the version before (comments/trees.py):
    which comments changed comes from ix_comments_thread_tree alone (no comment row, no sort), and
    only the changed ones are read from the table, by primary key."""
    from widget_server.comments import trees

    monkeypatch.setattr(trees, "INCREMENTAL_FROM", 1)
    for n in range(4):
        post(f"comment {n}")
    assert client.get("/api/v1/comments", query_string={"url": PAGE}).status_code == 200
    post("one more")
    with captured(app) as statements:
        assert client.get("/api/v1/comments", query_string={"url": PAGE}).status_code == 200
    plans = {statement: plan(app, statement, parameters) for statement, parameters in statements}
    light = [p for s, p in plans.items() if "revision" in s and "html" not in s]
    assert len(light) == 1, plans
    assert re.search(r"Index Only Scan using ix_comments_thread_tree|COVERING INDEX ix_comments_thread_tree",
                     light[0]), light[0]
    for text in plans.values():
        assert not whole_table(text), text
