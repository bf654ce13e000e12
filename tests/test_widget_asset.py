"""/widget.js, /widget-account.js and the language files as served: minified, compressed,
cacheable, revalidated by ETag; and the download budget (issue 3) in every language."""
from __future__ import annotations

import gzip
import json
import re
import shutil

import pytest

from widget_server.assets import STATIC_DIR, compact_js, languages, warm

BUDGET = 12 * 1024
GZIP = {"Accept-Encoding": "gzip"}
OTHERS = [lang for lang in languages(STATIC_DIR) if lang != "en"]  # en.json holds only the errors table


def test_widget_is_served_compressed_with_an_etag_and_a_short_cache_life(client):
    response = client.get("/widget.js", headers=GZIP)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.mimetype == "text/javascript"
    assert "max-age=300" in response.headers["Cache-Control"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    source = gzip.decompress(response.data)
    assert source == client.get("/widget.js").data

    again = client.get("/widget.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_download_before_comments_is_within_budget_in_every_language(client):
    """English: /widget.js alone. Any other language: /widget.js and that language's file."""
    widget = len(client.get("/widget.js", headers=GZIP).data)
    totals = {"en": widget}
    for lang in OTHERS:
        strings = client.get(f"/widget-i18n/{lang}.json", headers=GZIP)
        assert strings.status_code == 200, lang
        totals[lang] = widget + len(strings.data)
    assert set(totals) == set(languages(STATIC_DIR)) and len(totals) >= 15
    worst = max(totals, key=totals.__getitem__)
    assert totals[worst] <= BUDGET, f"{worst}: {totals[worst]} B > {BUDGET} B (issue 3); all: {totals}"


def test_the_widget_itself_knows_which_languages_have_a_file(client):
    """Written in the source, not by the server: a copy served from elsewhere knows them too."""
    listed = " ".join(languages(STATIC_DIR)).encode()
    assert b'const LANGUAGES = "' + listed + b'".split(" ")' in (STATIC_DIR / "widget.js").read_bytes()
    assert re.search(rb'="' + re.escape(listed) + rb'"\.split\(" "\)', client.get("/widget.js").data)


def test_minifying_shortens_locals_and_keeps_strings_and_modern_syntax():
    source = (STATIC_DIR / "widget.js").read_bytes()
    compact = compact_js(source)
    assert len(compact) < len(source) * 0.65
    assert not compact.startswith(b"/*") and b"\n  " not in compact and b"// " not in compact
    assert b"function errorText(" not in compact  # a local function: renamed
    # Strings, template literals and object keys stay as written.
    for kept in (b'"http://www.w3.org/2000/svg"', b'"widget-server:"', b":host{display:block}",
                 b"No comments yet. Start the discussion!", b'"ar cs de el en', b"title:", b'"use strict"'):
        assert kept in compact
    modern = b"class A{#n=1;get n(){return this.#n}}const f=async(a,{bb}={})=>a?.c??`${bb}`;export default f;"
    assert compact_js(modern).count(b"#") == 2 and b"?." in compact_js(modern) and b"=>" in compact_js(modern)


@pytest.mark.parametrize("path", sorted(STATIC_DIR.glob("*.js")), ids=lambda path: path.name)
def test_every_script_minifies_without_the_fallback(path, caplog):
    source = path.read_bytes()
    assert len(compact_js(source)) < len(source) * 0.8
    assert "could not minify" not in caplog.text


@pytest.mark.parametrize("name", ["widget.js", "widget-account.js", "widget-live.js", "widget-errors.js",
                                  "widget-report.js", "widget-react.js", "widget-edit.js"])
def test_the_only_html_inserted_is_the_servers_sanitized_field(name):
    """Reader text goes in with textContent; innerHTML takes only a server answer's `html` field."""
    source = (STATIC_DIR / name).read_text("utf-8")
    code = "\n".join(line.split("//")[0] for line in source.splitlines())
    assignments = re.findall(r"\.innerHTML\s*=\s*([^;]+);", code)
    assert all(re.fullmatch(r"(comment|data)\.html", value) for value in assignments), assignments
    assert len(assignments) == (2 if name == "widget.js" else 0)
    for sink in ("outerHTML", "insertAdjacentHTML", "document.write", "DOMParser", "createContextualFragment",
                 "eval(", "new Function"):
        assert sink not in code, sink


@pytest.mark.parametrize("path", ["/widget-account.js", "/widget-live.js", "/widget-report.js",
                                  "/widget-errors.js"])
def test_the_on_demand_modules_are_served_like_the_widget(client, path):
    response = client.get(path, headers=GZIP)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.mimetype == "text/javascript"  # an ES module needs a JavaScript type and CORS
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert gzip.decompress(response.data).startswith(
        b'"use strict";const tables={}' if path == "/widget-errors.js" else b'"use strict";const EN={')
    assert len(response.data) <= 6 * 1024  # an on-demand module's own budget
    again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


ON_DEMAND = sorted(path.name for path in STATIC_DIR.glob("widget-*.js"))


def test_every_on_demand_module_is_within_its_own_budget(client):
    """What loads later (the account panel, the reaction picker, editing, ...): 6 KB each (issue 19)."""
    assert {"widget-account.js", "widget-react.js", "widget-edit.js", "widget-live.js"} <= set(ON_DEMAND)
    sizes = {name: len(client.get("/" + name, headers=GZIP).data) for name in ON_DEMAND}
    assert all(0 < size <= 6 * 1024 for size in sizes.values()), sizes


@pytest.mark.parametrize("path", ["/widget-i18n/de.json", "/widget-i18n/account/ar.json",
                                  "/widget-i18n/pt-BR.json", "/widget-i18n/live/zh.json",
                                  "/widget-i18n/report/ja.json",
                                  "/widget-i18n/errors/de.json", "/widget-i18n/errors/en.json"])
def test_language_files_are_served_like_the_widget(client, path):
    response = client.get(path, headers=GZIP)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=300, stale-while-revalidate=86400"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = gzip.decompress(response.data)
    assert body == client.get(path).data
    assert b"\n" not in body and b'": "' not in body  # compact
    assert isinstance(json.loads(body), dict)
    again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/widget-i18n/xx.json", "/widget-i18n/en.json", "/widget-i18n/DE.json",
                                  "/widget-i18n/account/xx.json", "/widget-i18n/de-at.json",
                                  "/widget-i18n/pt-br.json", "/widget-i18n/account/en.json",
                                  "/widget-i18n/widget/de.json",
                                  "/widget-i18n/nope/de.json"])
def test_a_language_without_a_file_is_a_404_in_the_error_shape(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert response.headers["Access-Control-Allow-Origin"] == "*"  # the widget may read it


def test_a_new_language_file_is_served_table_by_table(app, client, tmp_path):
    """Adding a language: its file (served as it is) and its tag in the widget's list (which
    tests/test_i18n_files.py holds to the files)."""
    static = tmp_path / "static"
    shutil.copytree(STATIC_DIR, static)
    (static / "i18n" / "eo.json").write_text(json.dumps(
        {"widget": {"title": "Diskuto"}, "account": {"in": "Ensaluti"}, "errors": {"error": "Eraro."}}),
        "utf-8")
    app.config["STATIC_DIR"] = str(static)
    assert "eo" in languages(static)
    assert client.get("/widget-i18n/eo.json").get_json() == {"title": "Diskuto"}
    assert client.get("/widget-i18n/account/eo.json").get_json() == {"in": "Ensaluti"}
    assert client.get("/widget-i18n/errors/eo.json").get_json() == {"error": "Eraro."}
    assert client.get("/widget-i18n/live/eo.json").status_code == 404  # a table the file lacks


def test_warm_up_prepares_the_first_downloads(tmp_path):
    static = tmp_path / "static"
    shutil.copytree(STATIC_DIR, static)
    warm(static)  # what each gunicorn worker does in a background thread when it starts
    from widget_server.assets import _cache

    assert {key[0].name for key in _cache if str(key[0]).startswith(str(static))} == {
        "widget.js", "widget-account.js", *(f"{lang}.json" for lang in languages(static))}


def test_comments_css_is_the_widgets_own_stylesheet_for_the_servers_markup(client):
    """/comments.css (docs/server-rendering.md): the CSS inside widget.js, one copy, nested under
    .widget-server so it reaches the server's markup of a thread and nothing else on the page."""
    response = client.get("/comments.css", headers=GZIP)
    assert response.status_code == 200 and response.mimetype == "text/css"
    css = gzip.decompress(response.data).decode()
    assert css.startswith(".widget-server{") and "${" not in css
    source = (STATIC_DIR / "widget.js").read_text("utf-8")
    for rule in (".c>div{padding:10px 0;", ".so [aria-pressed=true]", ".r .r .r .r{margin-inline-start:0"):
        assert rule in source and rule in css
    assert "--bg:var(--widget-bg,#15181c)" in css  # the dark theme's variables, filled in
    assert client.get("/comments.css", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_the_demo_includes_its_thread_and_nojs_leaves_the_script_out(client):
    demo = client.get("/demo").get_data(as_text=True)
    assert '<div id="comments"><div class="widget-server">' in demo
    assert '<script src="/widget.js" async data-theme="auto" data-lang="en">' in demo
    assert re.search(r'<noscript><p><a href="http://[^"]+/t\?url=http', demo)
    plain = client.get("/demo?nojs").get_data(as_text=True)
    assert '<div class="widget-server">' in plain and "widget.js" not in plain
    assert '<span data-comments-count="/demo">0 comments</span>' in plain  # a number without scripts too


def test_the_demo_byline_counts_its_thread_on_the_server(client, post):
    post("First", url="http://127.0.0.1:8000/demo")
    plain = client.get("/demo?nojs").get_data(as_text=True)
    assert '<span data-comments-count="/demo">1 comment</span>' in plain
