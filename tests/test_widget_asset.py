"""/widget.js as served: compacted, compressed, cacheable, revalidated by ETag."""
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


def test_compacting_strips_comments_and_indentation_only():
    source = (STATIC_DIR / "widget.js").read_bytes()
    compact = compact_js(source)
    assert not compact.startswith(b"/*")
    assert b"\n  " not in compact and b"\n//" not in compact
    # Every line of code survives, in order, apart from its indentation and trailing comment.
    code = [line.strip() for line in source.decode().splitlines()]
    kept = [line for line in compact.decode().splitlines() if line]
    assert all(any(c.startswith(k) for c in code) for k in kept[:50])
    assert b'"http://www.w3.org/2000/svg"' in compact  # "//" inside strings is left alone
