"""The learning filter (issue 14): trained through the admin API by moderators' decisions, then
scored on comments it never saw (tests/support/spam_corpus.py), with numbers."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from support import factories
from support.app import PAGE
from support.spam_corpus import comments
from support.sql import statements

from widget_server.comments import learning
from widget_server.extensions import db
from widget_server.models import SPAM, FilterLabel, FilterToken
from widget_server.ops.cli import main

FILTER_TEST = {"SPAM_MAX_LINKS": 10_000, "SPAM_DUPLICATE_WINDOW": 0, "FILTER_MIN_TRAINING": 10}
pytestmark = pytest.mark.parametrize("config_overrides", [FILTER_TEST], indirect=True)


def send(client, comment: dict, n: int):
    body = {"url": PAGE, "text": comment["text"], "author": comment["author"]}
    body |= {k: comment[k] for k in ("email", "website") if comment[k]}
    address = {"REMOTE_ADDR": f"10.1.{n // 250}.{n % 250}"}
    response = client.post("/api/v1/comments", json=body, environ_base=address)
    assert response.status_code in (201, 202), (response.json, comment)
    return response.json["comment"]["id"]


def decide(client, token, comment_id: int, spam: bool, delete: bool = False):
    headers = {"Authorization": f"Bearer {token}"}
    if delete:
        response = client.delete(f"/api/v1/admin/comments/{comment_id}?as=spam", headers=headers)
    else:
        response = client.post(f"/api/v1/admin/comments/{comment_id}/{'spam' if spam else 'approve'}",
                               json={}, headers=headers)
    assert response.status_code in (200, 204), response.json


def held_by_filter(client, token) -> dict[int, str]:
    found, cursor = {}, None
    while True:
        page = client.get("/api/v1/admin/comments", query_string={"state": "pending", "limit": 200,
                                                                  **({"cursor": cursor} if cursor else {})},
                          headers={"Authorization": f"Bearer {token}"}).json
        found |= {c["id"]: c["held_reason"] for c in page["comments"]
                  if "learning filter" in (c["held_reason"] or "")}
        if not (cursor := page["next_cursor"]):
            return found


def test_trained_by_moderators_it_holds_unseen_spam_and_spares_genuine_comments(app, client, admin_token):
    for n, comment in enumerate(comments("train", spam=60, genuine=60)):
        cid = send(client, comment, n)
        # Some spam is deleted as spam, the rest marked; genuine comments are approved.
        decide(client, admin_token, cid, comment["spam"], delete=comment["spam"] and n % 5 == 0)
    unseen = comments("unseen", spam=50, genuine=50)
    ids = {send(client, comment, 1000 + n): comment["spam"] for n, comment in enumerate(unseen)}
    held = held_by_filter(client, admin_token)
    spam_held = sum(1 for cid, spam in ids.items() if spam and cid in held)
    genuine_held = sum(1 for cid, spam in ids.items() if not spam and cid in held)
    recall, false_positive_rate = spam_held / 50, genuine_held / 50
    precision = spam_held / max(1, spam_held + genuine_held)
    print(f"\nlearning filter on unseen comments: recall {recall:.0%} ({spam_held}/50 spam held), "
          f"genuine held {false_positive_rate:.0%} ({genuine_held}/50), precision {precision:.0%}")
    assert recall >= 0.8
    assert false_positive_rate <= 0.05
    reason = next(iter(held.values()))
    assert re.fullmatch(r"held: [01]\.\d\d spam-like, similar to \d+ comments you marked as spam "
                        r"\(learning filter\)", reason), reason


def test_a_changed_decision_unlearns_the_first(db_session):
    comment = factories.comment("Cheap pills at https://pills.example/ buy now")
    learning.learn(comment, learning.SPAM)
    assert db_session.get(FilterToken, "w:pills").spam == 1
    assert not learning.learn(comment, learning.SPAM)  # the same decision again teaches nothing
    learning.learn(comment, learning.HAM)  # restored by a moderator
    token = db_session.get(FilterToken, "w:pills")
    assert (token.spam, token.ham) == (0, 1)
    assert db_session.get(FilterLabel, comment.id).label == learning.HAM


def test_it_scores_nothing_before_it_has_learned_enough(db_session):
    for n in range(9):
        learning.learn(factories.comment(f"spam spam number {n}", client=f"192.0.2.{n}"), learning.SPAM)
        learning.learn(factories.comment(f"genuine thought {n}", client=f"192.0.2.{n}"), learning.HAM)
    assert learning.score("spam spam", "<p>spam spam</p>", "", None, None) is None
    learning.learn(factories.comment("spam spam again", client="192.0.2.50"), learning.SPAM)
    learning.learn(factories.comment("genuine again", client="192.0.2.51"), learning.HAM)
    assert learning.score("spam spam", "<p>spam spam</p>", "", None, None).score > 0.9


def test_filter_train_learns_the_stored_comments_an_import_brought(app, runner):
    with app.app_context():
        factories.stored_comment("Imported spam from the Disqus spam folder", state=SPAM)
        factories.stored_comment("An imported genuine comment", address="192.0.2.9")
    result = runner.invoke(main, ["filter-train"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "learned 2 comments" in result.output
    with app.app_context():
        query = select(FilterLabel.label).order_by(FilterLabel.comment_id)
        labels = db.session.execute(query).scalars().all()
        db.session.remove()
    assert labels == ["spam", "ham"]
    assert "learned 0 comments" in runner.invoke(main, ["filter-train"]).output


def _filter_statements(app, client, text: str) -> list[str]:
    with statements(app) as seen:
        response = client.post("/api/v1/comments", json={"url": PAGE, "text": text})
    assert response.status_code in (201, 202), response.json
    return [statement for statement in seen if "filter_tokens" in statement]


def test_an_untrained_filter_costs_a_post_no_statement_of_its_own(app, client, admin_token):
    """What the filter has learned comes with the poster's look-up (screening.look_up): until it
    has learned enough of each kind, a post asks nothing more; then it reads the features' counts."""
    assert len(_filter_statements(app, client, "first words here")) == 1  # the look-up's part
    *first, last = sorted(comments("train", spam=10, genuine=10), key=lambda c: c["spam"], reverse=True)
    for n, comment in enumerate(first):
        decide(client, admin_token, send(client, comment, n), comment["spam"])
    assert len(_filter_statements(app, client, "still not enough")) == 1  # 10 spam, 9 genuine
    assert not last["spam"]
    decide(client, admin_token, send(client, last, 99), False)
    statements = _filter_statements(app, client, "now it has learned enough")
    assert len(statements) == 2 and "union" not in statements[1].lower(), statements
