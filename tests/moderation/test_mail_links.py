"""Moderation from the mail (issue 14): the admin's new-comment and held-comment mails carry
signed approve / spam / delete links; a GET shows one button and changes nothing; the POST acts
once, in the audit log as "mail link". Through the local SMTP server (support/accounts.py)."""
from __future__ import annotations

import pytest
from support import accounts as account_support
from support.accounts import account_config, link_path, link_with, send_outbox

smtp_server = account_support.smtp_server
ADMIN = "admin@blog.example"


@pytest.fixture
def config_overrides(request, smtp_server):
    return account_config(smtp_server.url, ADMIN_EMAIL=ADMIN, **getattr(request, "param", {}))


def admin_mail(app, smtp_server, post, text, **fields):
    posted = post(text, **fields)
    send_outbox(app)
    return posted["comment"]["id"], smtp_server.to(ADMIN)[-1]


def state_of(client, token, cid) -> str:
    answer = client.get(f"/api/v1/admin/comments/{cid}", headers={"Authorization": f"Bearer {token}"})
    return answer.json["comment"]["state"]


@pytest.mark.parametrize("config_overrides", [{"MODERATION": "all"}], indirect=True)
def test_approve_from_the_held_comment_mail(app, client, post, smtp_server, admin_token):
    cid, message = admin_mail(app, smtp_server, post, "Please publish me")
    assert message["Subject"].startswith("Held for moderation")
    url = link_path(link_with(message, "/admin/mail?token="))
    shown = client.get(url)  # what a mail scanner does: nothing may change
    assert shown.status_code == 200 and b"Approve" in shown.data and b"<form method=\"post\">" in shown.data
    assert shown.headers["Cache-Control"] == "no-store"
    assert state_of(client, admin_token, cid) == "pending"
    token = url.split("token=", 1)[1]
    done = client.post("/admin/mail", data={"token": token})
    assert done.status_code == 200 and b"approved" in done.data
    assert state_of(client, admin_token, cid) == "published"
    again = client.post("/admin/mail", data={"token": token})
    assert b"already approved" in again.data
    audit = client.get("/api/v1/admin/audit", headers={"Authorization": f"Bearer {admin_token}"}).json
    assert [(e["actor"], e["action"]) for e in audit["entries"]][:2] == [("mail link", "approve")]


@pytest.mark.parametrize(("words", "state"), [("Mark it as spam", "spam"), ("Delete it", "deleted")])
def test_spam_and_delete_from_the_new_comment_mail(app, client, post, smtp_server, admin_token, words, state):
    cid, message = admin_mail(app, smtp_server, post, "A published comment")
    assert message["Subject"].startswith("New comment")
    html = account_support.html_of(message)
    assert "Approve it" not in html  # it is published already
    links = [link for link in account_support.links(message) if "/admin/mail?token=" in link]
    assert len(links) == 2
    target = links[0] if state == "spam" else links[1]  # in the mail's order
    assert words in html
    token = link_path(target).split("token=", 1)[1]
    assert client.post("/admin/mail", data={"token": token}).status_code == 200
    assert state_of(client, admin_token, cid) == state


@pytest.mark.parametrize("token", ["", "forged", "eyJjIjoxLCJhIjoiYXBwcm92ZSJ9.AAAA.BBBB"])
def test_a_forged_link_changes_nothing(client, post, admin_token, token):
    cid = post("Stays as it is")["comment"]["id"]
    assert client.get(f"/admin/mail?token={token}").status_code == 400
    assert client.post("/admin/mail", data={"token": token}).status_code == 400
    assert state_of(client, admin_token, cid) == "published"


def test_an_old_link_has_expired(app, client, post, smtp_server, admin_token, frozen_clock):
    cid, message = admin_mail(app, smtp_server, post, "Old news")
    spam_link = next(link for link in account_support.links(message) if "/admin/mail?token=" in link)
    token = link_path(spam_link).split("token=", 1)[1]
    frozen_clock.advance(days=15)
    refused = client.post("/admin/mail", data={"token": token})
    assert refused.status_code == 400 and b"expired" in refused.data
    assert state_of(client, admin_token, cid) == "published"
