"""No request body, header or query of any shape makes the server answer 500."""
from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.app import PAGE

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda children: (st.lists(children, max_size=4)
                      | st.dictionaries(st.text(max_size=10), children, max_size=4)),
    max_leaves=12,
)
FIELDS = ["url", "title", "parent_id", "author", "email", "website", "text", "form_token", "homepage",
          "anonymous", "notify", "altcha"]
BODIES = st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=len(FIELDS)).map(
    lambda body: {"url": PAGE, "text": "fuzz", **body}) | JSON_VALUES
# Anything a client could put in a header (newlines cannot be sent at all).
HEADER_TEXT = st.text(st.characters(codec="latin-1", exclude_characters="\r\n\x00"), max_size=80)
FUZZ = settings(max_examples=80, deadline=None,  # ×18 tests: the suite has a 15-minute budget
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def assert_clean(response):
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        assert set(response.json["error"]) >= {"code", "message"}


@FUZZ
@given(body=BODIES)
def test_post_comment_bodies(client, body):
    assert_clean(client.post("/api/v1/comments", data=json.dumps(body), content_type="application/json"))


@pytest.mark.parametrize("config_overrides", [{"POW": "off"}], indirect=True)
@FUZZ
@given(body=BODIES)
def test_post_comment_bodies_past_the_proof_of_work(client, body):
    """The same bodies with proof of work off, so they reach the write path itself."""
    assert_clean(client.post("/api/v1/comments", data=json.dumps(body), content_type="application/json"))


@FUZZ
@given(altcha=JSON_VALUES | st.text(max_size=300) | st.binary(max_size=200).map(
    lambda raw: base64.b64encode(raw).decode()))
def test_proof_of_work_payloads(client, altcha):
    response = client.post("/api/v1/comments", json={"url": PAGE, "text": "fuzz", "altcha": altcha})
    assert_clean(response)
    assert response.status_code == 400


@FUZZ
@given(body=JSON_VALUES | st.dictionaries(st.sampled_from(["reason", "note"]), JSON_VALUES, max_size=2),
       comment_id=st.integers(min_value=0, max_value=2**40))
def test_report_bodies(client, body, comment_id):
    assert_clean(client.post(f"/api/v1/comments/{comment_id}/report", data=json.dumps(body),
                             content_type="application/json"))


@FUZZ
@given(raw=st.binary(max_size=300))
def test_raw_bytes(client, raw):
    assert_clean(client.post("/api/v1/comments", data=raw, content_type="application/json"))
    assert_clean(client.post("/api/v1/preview", data=raw, content_type="application/json"))


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["url", "sort", "limit", "cursor"]), st.text(max_size=80)))
def test_thread_queries(client, params):
    assert_clean(client.get("/api/v1/comments", query_string=params))
    assert_clean(client.get("/api/v1/counts", query_string=params))


@FUZZ
@given(token=HEADER_TEXT, comment_id=st.integers(min_value=0, max_value=2**40), body=JSON_VALUES)
def test_edit_with_any_token_and_body(client, token, comment_id, body):
    headers = {"X-Edit-Token": token}
    assert_clean(client.patch(f"/api/v1/comments/{comment_id}", data=json.dumps(body),
                              content_type="application/json", headers=headers))
    assert_clean(client.delete(f"/api/v1/comments/{comment_id}", headers=headers))
    assert_clean(client.post(f"/api/v1/comments/{comment_id}/like", json={}))


@FUZZ
@given(origin=HEADER_TEXT, authorization=HEADER_TEXT)
def test_any_origin_and_authorization_header(client, origin, authorization):
    headers = {"Origin": origin, "Authorization": authorization}
    assert_clean(client.get("/api/v1/comments", query_string={"url": PAGE}, headers=headers))
    assert_clean(client.get("/api/v1/admin/comments", headers=headers))


@FUZZ
@given(body=JSON_VALUES, action=st.sampled_from(["delete", "approve", "spam", "nuke"]),
       ids=st.lists(st.integers(min_value=-(2**70), max_value=2**70), max_size=5))
def test_admin_writes_with_any_body(client, admin_token, body, action, ids):
    admin = {"Authorization": f"Bearer {admin_token}"}
    assert_clean(client.post("/api/v1/admin/comments/bulk", json={"action": action, "ids": ids},
                             headers=admin))
    assert_clean(client.post("/api/v1/admin/comments/bulk", data=json.dumps(body),
                             content_type="application/json", headers=admin))
    assert_clean(client.post("/api/v1/admin/bans", data=json.dumps(body), content_type="application/json",
                             headers=admin))
    for comment_id in ids:
        assert_clean(client.post("/api/v1/admin/bans", json={"kind": "ip", "comment_id": comment_id},
                                 headers=admin))
    assert_clean(client.get("/api/v1/admin/comments", query_string={"limit": str(ids[:1]), "q": str(body)},
                            headers=admin))
