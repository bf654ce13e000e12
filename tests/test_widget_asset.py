"""/widget.js and /widget-account.js as served: minified, compressed, cacheable, revalidated by ETag."""
from __future__ import annotations

import gzip

from widget_server.assets import STATIC_DIR, compact_js

BUDGET = 12 * 1024


def test_widget_is_served_compressed_with_an_etag_and_a_short_cache_life(client):
    response = client.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.mimetype == "text/javascript"
    assert "max-age=300" in response.headers["Cache-Control"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert len(response.data) <= BUDGET, "the widget's download budget (issue 3)"
    source = gzip.decompress(response.data)
    assert source == client.get("/widget.js").data

    again = client.get("/widget.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_minifying_strips_comments_and_whitespace_only():
    source = (STATIC_DIR / "widget.js").read_bytes()
    compact = compact_js(source)
    assert len(compact) < len(source) * 0.8
    assert not compact.startswith(b"/*") and b"\n  " not in compact and b"// " not in compact
    # Names, strings and template literals are left alone (rjsmin does not rename or rewrite).
    for kept in (b"function errorText(e)", b'"http://www.w3.org/2000/svg"', b'"widget-server:"',
                 b":host{display:block}", b"No comments yet. Start the discussion!"):
        assert kept in compact


def test_account_module_is_served_like_the_widget(client):
    response = client.get("/widget-account.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.mimetype == "text/javascript"  # an ES module needs a JavaScript type and CORS
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert gzip.decompress(response.data).startswith(b'"use strict";const L={')
    again = client.get("/widget-account.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
