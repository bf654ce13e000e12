"""Bad input of every kind gets a clear 4xx in the one error shape, and stores nothing."""
from __future__ import annotations

import json
import re

import pytest
from support.app import PAGE

API = "/api/v1"
JSON = "application/json"


def assert_error_shape(response, status, code=None):
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == JSON
    error = response.json["error"]
    assert set(error) <= {"code", "message", "fields", "field_codes", "field_params"} and error["message"]
    # a code per field, and only for the fields named
    assert set(error.get("field_codes", {})) == set(error.get("fields", {}))
    assert set(error.get("field_params", {})) <= set(error.get("fields", {}))
    if code:
        assert error["code"] == code
    if status != 400:
        assert "fields" not in error
    return error


def assert_nothing_stored(client):
    body = client.get(f"{API}/comments", query_string={"url": PAGE}).json
    assert body["thread"]["comment_count"] == 0


def valid(**changes):
    return {"url": PAGE, "text": "hello", **changes}


MALFORMED_BODIES = [
    ("not json", b"{nope", 400, "invalid_json"),
    ("truncated", b'{"url": "x", "text": "', 400, "invalid_json"),
    ("a list", b"[1, 2]", 400, "invalid_json"),
    ("a string", b'"text"', 400, "invalid_json"),
    ("invalid utf-8", b'{"url": "' + PAGE.encode() + b'", "text": "\xff\xfe"}', 400, "invalid_json"),
    ("deep nesting", b"[" * 100_000 + b"]" * 100_000, 413, "payload_too_large"),
    ("deep nesting under the size limit", b'{"text": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", 400, None),
    ("lone surrogate", json.dumps(valid(text="\ud800")).encode(), 400, "validation_error"),
    ("NUL in text", json.dumps(valid(text="a\x00b")).encode(), 400, "validation_error"),
    ("NUL in author", json.dumps(valid(author="a\x00b")).encode(), 400, "validation_error"),
    ("huge body", json.dumps(valid(text="x" * 200_000)).encode(), 413, "payload_too_large"),
]


@pytest.mark.parametrize("name, raw, status, code", MALFORMED_BODIES, ids=[m[0] for m in MALFORMED_BODIES])
def test_malformed_bodies(client, name, raw, status, code):
    response = client.post(f"{API}/comments", data=raw, content_type=JSON)
    assert_error_shape(response, status, code)
    assert_nothing_stored(client)


FIELD_ERRORS = [
    ({"text": ""}, "text", "must not be empty", "required"),
    ({"text": "   \n "}, "text", "must not be empty", "required"),
    ({"text": None}, "text", "is required", "required"),
    ({"text": 5}, "text", "must be a string", "invalid"),
    ({"text": ["a"]}, "text", "must be a string", "invalid"),
    ({"text": "x" * 10_001}, "text", "must be at most 10000 characters", "too_long"),
    ({"url": None}, "url", "is required", "required"),
    ({"url": "javascript:alert(1)"}, "url", "must be an absolute http(s) URL", "invalid"),
    ({"url": "/relative/path"}, "url", "must be an absolute http(s) URL", "invalid"),
    ({"url": "https://"}, "url", "must have a valid host", "invalid"),
    ({"url": 42}, "url", "must be an absolute http(s) URL", "invalid"),
    ({"author": "x" * 101}, "author", "must be at most 100 characters", "too_long"),
    ({"author": "<b>Ann</b>"}, "author", "must not contain < or >", "characters"),
    ({"author": {"name": "x"}}, "author", "must be a string", "invalid"),
    ({"email": "not-an-address"}, "email", "must be an e-mail address", "invalid"),
    ({"email": "a@b.c" + "c" * 260}, "email", "must be at most 254 characters", "too_long"),
    ({"website": "javascript:alert(1)"}, "website", "must be an absolute http(s) URL", "invalid"),
    ({"website": "data:text/html,<script>alert(1)</script>"}, "website",
     "must be an absolute http(s) URL", "invalid"),
    ({"website": "https://ex ample.org"}, "website", "must have a valid host", "invalid"),
    ({"website": 'https://example.org/"onmouseover=alert(1)'}, "website",
     "must be an http(s) URL without spaces or quotes", "invalid"),
    ({"parent_id": "1"}, "parent_id", "must be a positive integer or null", "invalid"),
    ({"parent_id": True}, "parent_id", "must be a positive integer or null", "invalid"),
    ({"parent_id": -3}, "parent_id", "must be a positive integer or null", "invalid"),
    ({"parent_id": 12345}, "parent_id", "does not exist in this thread", "not_found"),
    ({"title": "t" * 301}, "title", "must be at most 300 characters", "too_long"),
]


@pytest.mark.parametrize("changes, field, message, code", FIELD_ERRORS)
def test_field_validation(client, changes, field, message, code):
    response = client.post(f"{API}/comments", json=valid(**changes))
    error = assert_error_shape(response, 400, "validation_error")
    assert error["fields"][field] == message
    assert error["field_codes"][field] == code  # what the widget words in the reader's language
    if code == "too_long":  # the number the wording needs, beside the English message that has it
        assert f"at most {error['field_params'][field]['max']} characters" in message
    assert_nothing_stored(client)


def test_all_field_errors_are_reported_at_once(client):
    response = client.post(f"{API}/comments", json={"url": "ftp://x", "text": "", "email": "nope"})
    error = assert_error_shape(response, 400, "validation_error")
    assert set(error["fields"]) == {"url", "text", "email"}


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain",
                                          "multipart/form-data; boundary=x", None])
def test_writes_need_json(client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(f"{API}/comments", data="url=x&text=y", headers=headers)
    assert_error_shape(response, 415, "unsupported_media_type")
    assert_nothing_stored(client)


@pytest.mark.parametrize("path", [f"{API}/preview", f"{API}/comments/1/like"])
def test_other_writes_need_json_too(client, path):
    assert_error_shape(client.post(path, data="text=y", content_type="text/plain"), 415)


@pytest.mark.parametrize("method, path, status, code", [
    ("get", "/nowhere", 404, "not_found"),
    ("get", f"{API}/comments/999", 404, "not_found"),
    ("get", f"{API}/comments/abc", 404, "not_found"),
    ("put", f"{API}/comments", 405, "method_not_allowed"),
    ("delete", f"{API}/counts", 405, "method_not_allowed"),
    ("get", f"{API}/comments", 400, "validation_error"),
    ("get", f"{API}/comments?url={PAGE}&sort=best", 400, "validation_error"),
    ("get", f"{API}/comments?url={PAGE}&limit=0", 400, "validation_error"),
    ("get", f"{API}/comments?url={PAGE}&limit=abc", 400, "validation_error"),
    ("get", f"{API}/comments?url={PAGE}&cursor=%%%", 400, "validation_error"),
    ("get", f"{API}/comments?url={PAGE}&cursor=WzEsMl0&sort=top", 400, "validation_error"),
    ("get", f"{API}/counts", 400, "validation_error"),
])
def test_routing_and_query_errors(client, method, path, status, code):
    assert_error_shape(getattr(client, method)(path), status, code)


def test_unexpected_exception_is_a_plain_500(app, client, monkeypatch):
    from widget_server.comments import api as reader

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(reader, "render_visible", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post(f"{API}/preview", json={"text": "x"})
    error = assert_error_shape(response, 500, "server_error")
    assert "secret" not in response.get_data(as_text=True) and "Traceback" not in error["message"]


def test_database_outage_is_a_json_503(app, client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from widget_server.comments import threads

    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(threads, "find", down)
    response = client.get(f"{API}/comments", query_string={"url": PAGE})
    assert_error_shape(response, 503, "service_unavailable")
    assert response.headers["Retry-After"]
    assert "connection refused" not in response.get_data(as_text=True)


@pytest.mark.parametrize("method, path", [
    ("get", f"{API}/comments/2147483648"),
    ("patch", f"{API}/comments/99999999999999999999"),
    ("delete", f"{API}/comments/2147483648"),
    ("post", f"{API}/comments/2147483648/like"),
    ("delete", f"{API}/admin/comments/2147483648"),
])
def test_ids_past_the_column_range_are_404(client, method, path):
    response = getattr(client, method)(path, json={"text": "x"}, headers={"X-Edit-Token": "t",
                                                                          "Authorization": "Bearer x"})
    # Never 405: werkzeug checks methods before converting values, so a converter that
    # refused the id made it answer 405 where another method's rule shares the path.
    assert response.status_code == (404 if "admin" not in path else 401)
    assert_error_shape(response, response.status_code)


@pytest.mark.parametrize("method, path", [("get", f"{API}/admin/comments/2147483648"),
                                          ("delete", f"{API}/admin/comments/2147483648"),
                                          ("post", f"{API}/admin/threads/2147483648/lock"),
                                          ("delete", f"{API}/admin/bans/99999999999")])
def test_admin_ids_past_the_column_range_are_404(client, admin_token, method, path):
    response = getattr(client, method)(path, json={}, headers={"Authorization": f"Bearer {admin_token}"})
    assert_error_shape(response, 404)


def test_parent_id_past_the_column_range_is_a_field_error(client):
    response = client.post(f"{API}/comments", json={"url": PAGE, "text": "x", "parent_id": 2**63})
    assert_error_shape(response, 400)
    assert_nothing_stored(client)


def test_every_field_message_in_the_code_carries_a_code():
    """A field error is made with errors.problem (or a helper that does), never a bare string: a bare
    one would reach readers of other languages as field code `invalid`, in English words."""
    from pathlib import Path

    import widget_server

    bare = re.compile(r'errors\[[^\]]+\]\s*=\s*f?"|ValidationError\(\{[^}:]+:\s*f?"')
    found = [f"{path.name}: {line.strip()}" for path in Path(widget_server.__file__).parent.rglob("*.py")
             for line in path.read_text("utf-8").splitlines() if bare.search(line)]
    assert found == []


def test_a_field_code_must_be_one_of_the_documented_ones():
    from widget_server.errors import FIELD_CODES, field_codes, field_params, problem

    message = problem("too_long", "must be at most 5 characters", max=5)
    assert message == "must be at most 5 characters" and isinstance(message, str)
    assert field_codes({"a": message, "b": "a bare message"}) == {"a": "too_long", "b": "invalid"}
    assert field_params({"a": message, "b": problem("required", "is required")}) == {"a": {"max": 5}}
    assert "required" in FIELD_CODES
    with pytest.raises(ValueError, match="unknown field code"):
        problem("too_longish", "x")
