"""Readers' reports (issue 14): once per reader and comment, held after the threshold, listed on
/admin with their reasons, illegal content mailed to the admin at once, rate-limited."""
from __future__ import annotations

import pytest
from support import accounts as account_support
from support.accounts import account_config, count, send_outbox, text_of
from support.app import PAGE

from widget_server.models import AuditEntry, Report

smtp_server = account_support.smtp_server
make_reader = account_support.make_reader


def report(client, comment_id, reason="spam", address="203.0.113.1", headers=None, **more):
    return client.post(f"/api/v1/comments/{comment_id}/report", json={"reason": reason, **more},
                       environ_base={"REMOTE_ADDR": address}, headers=headers or {})


def visible(client) -> list[int]:
    return [c["id"] for c in client.get("/api/v1/comments", query_string={"url": PAGE}).json["comments"]]


def admin_list(client, token, **params):
    response = client.get("/api/v1/admin/comments", query_string=params,
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.json
    return response.json["comments"]


def test_one_report_per_reader_and_comment(app, client, post):
    cid = post("Buy followers now")["comment"]["id"]
    for _ in range(3):
        assert report(client, cid).status_code == 202
    # The same IPv6 /64 is one reader, however its hosts are numbered.
    assert report(client, cid, address="2001:db8:7::1").status_code == 202
    assert report(client, cid, address="2001:db8:7::ffff").status_code == 202
    assert count(app, Report) == 2
    assert visible(client) == [cid]


def test_distinct_readers_up_to_the_threshold_hold_the_comment(app, client, post, admin_token):
    cid = post("Visit my casino")["comment"]["id"]
    kept = post("A fine comment")["comment"]["id"]
    assert report(client, cid, "spam", "198.51.100.1").status_code == 202
    assert report(client, cid, "abusive", "198.51.100.2").status_code == 202
    assert report(client, kept, "off_topic", "198.51.100.2").status_code == 202
    assert visible(client) == [cid, kept]
    assert report(client, cid, "spam", "198.51.100.3").status_code == 202
    assert visible(client) == [kept]
    held = admin_list(client, admin_token, state="pending")
    assert [c["id"] for c in held] == [cid]
    assert held[0]["held_reason"] == "reported by 3 readers (spam \u00d72, abusive \u00d71)"
    assert sorted(r["reason"] for r in held[0]["reports"]) == ["abusive", "spam", "spam"]
    reported = admin_list(client, admin_token, reported="1")
    assert {c["id"] for c in reported} == {cid, kept}
    assert count(app, AuditEntry, AuditEntry.action == "hold-reported") == 1
    # A held comment takes no more reports.
    assert report(client, cid, "spam", "198.51.100.4").status_code == 404


@pytest.mark.parametrize("config_overrides", [{"REPORT_THRESHOLD": 1}], indirect=True)
def test_the_threshold_is_a_setting(client, post):
    cid = post("One is enough here")["comment"]["id"]
    report(client, cid)
    assert visible(client) == []


@pytest.mark.parametrize(("body", "field"), [
    ({"reason": "boring"}, "reason"),
    ({}, "reason"),
    ({"reason": 3}, "reason"),
    ({"reason": "illegal"}, "note"),
    ({"reason": "illegal", "note": "   "}, "note"),
    ({"reason": "spam", "note": "x" * 501}, "note"),
    ({"reason": "spam", "note": ["a list"]}, "note"),
])
def test_a_bad_report_is_refused_and_changes_nothing(app, client, post, body, field):
    cid = post("Reported wrongly")["comment"]["id"]
    response = client.post(f"/api/v1/comments/{cid}/report", json=body)
    assert response.status_code == 400 and field in response.json["error"]["fields"]
    assert count(app, Report) == 0


def test_only_published_comments_can_be_reported(client):
    assert report(client, 999999).status_code == 404
    assert client.post("/api/v1/comments/1/report", data="reason=spam").status_code == 415


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_ENABLED": True,
                                               "RATELIMIT_REPORT": "2 per minute"}], indirect=True)
def test_reports_are_rate_limited(client, post):
    ids = [post(f"Comment {n}")["comment"]["id"] for n in range(3)]
    assert [report(client, cid).status_code for cid in ids] == [202, 202, 429]


class TestMail:
    @pytest.fixture
    def config_overrides(self, smtp_server):
        return account_config(smtp_server.url, ADMIN_EMAIL="admin@blog.example")

    def test_illegal_content_mails_the_admin_at_once(self, app, client, post, smtp_server):
        cid = post("Here is a stolen credit card list")["comment"]["id"]
        send_outbox(app)
        before = len(smtp_server.to("admin@blog.example"))  # the new-comment mail
        assert report(client, cid, "illegal", note="Stolen card numbers (fraud).").status_code == 202
        assert report(client, cid, "spam", address="203.0.113.2").status_code == 202  # no mail for spam
        send_outbox(app)
        mails = smtp_server.to("admin@blog.example")[before:]
        assert len(mails) == 1
        assert mails[0]["Subject"].startswith("Reported as illegal: comment #1")
        assert "Stolen card numbers (fraud)." in text_of(mails[0])
        assert "stolen credit card list" in text_of(mails[0])

    def test_a_signed_in_reader_is_one_reader_from_any_address(self, app, client, post, make_reader):
        cid = post("Reported by an account")["comment"]["id"]
        reader = make_reader()
        for address in ("192.0.2.50", "198.51.100.50"):
            assert report(client, cid, address=address, headers=reader.auth).status_code == 202
        assert count(app, Report) == 1
