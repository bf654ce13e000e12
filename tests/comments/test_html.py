"""The fragment included for real, end to end (docs/server-rendering.md): by Debian's nginx with a
server-side include (docs/recipes/nginx-ssi.conf as written) and by a Hugo build from Debian's
package (docs/recipes/hugo as written). With CI=true a missing nginx or hugo fails the test."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import extruct
from support.nginx import Nginx
from support.processes import need_binary

RECIPES = Path(__file__).resolve().parents[2] / "docs" / "recipes"
HOW = "scripts/install-test-tools.sh"


def published(markup: str, base: str) -> list[str]:
    """The text of every schema.org Comment in the page, as a search engine reads its microdata."""
    found, stack = [], extruct.extract(markup, base_url=base, syntaxes=["microdata"])["microdata"]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "https://schema.org/Comment":
                found.append(item["properties"]["text"])
            stack.extend(v for value in item.get("properties", {}).values()
                         for v in (value if isinstance(value, list) else [value]))
    return sorted(found)


class SiteWithIncludes(Nginx):
    """nginx serving a static folder with docs/recipes/nginx-ssi.conf, filled in."""

    def __init__(self, upstream: str, site: str, comments: str):
        super().__init__(upstream)
        self.site, self.comments = site, comments

    def render(self) -> str:
        root = self.folder / "blog"
        root.mkdir()
        article = (RECIPES / "article.shtml").read_text()
        (root / "article.html").write_text(article.replace("${SITE}", self.site)
                                           .replace("${COMMENTS}", self.comments))
        config = (RECIPES / "nginx-ssi.conf").read_text()
        for name, value in (("${BLOG_ROOT}", str(root)), ("${WIDGET_UPSTREAM}", self.upstream),
                            ("${SITE}", self.site)):
            assert name in config or name == "${SITE}", name
            config = config.replace(name, value)
        config = config.replace("listen 80;", f"listen 127.0.0.1:{self.port};")
        health = f"listen 127.0.0.1:{self.health_port}; location = /proxy-health {{ return 200; }}"
        return config + "server { " + health + " }\n"


def test_nginx_includes_the_thread_in_the_article(live_server):
    site = "https://blog.example"
    client = live_server.app.test_client()
    for text in ("First, included by nginx", "Second, included by nginx"):
        posted = client.post("/api/v1/comments", json={"url": f"{site}/article.html", "text": text})
        assert posted.status_code == 201
    upstream = live_server.url.removeprefix("http://")
    with SiteWithIncludes(upstream, site, live_server.url).start() as nginx:
        response = nginx.request("GET", "/article.html", host="blog.example")
        hidden = nginx.request("GET", "/_comments/api/v1/comments.html?url=https://blog.example/article.html",
                               host="blog.example")
    page = response.body.decode()
    assert response.status == 200
    assert "<!--#" not in page and '<div class="widget-server">' in page
    expected = ["First, included by nginx", "Second, included by nginx"]
    assert published(page, f"{site}/article.html") == expected
    assert 'data-ws-seed="oldest"' in page  # the widget will take it over
    assert hidden.status == 404  # the include's location is nginx's own, not the readers'


def test_a_hugo_build_fetches_the_thread_into_the_page(live_server, tmp_path):
    hugo = need_binary(shutil.which("hugo"), "hugo", f"{HOW} (apt-get install hugo)")
    site = tmp_path / "site"
    shutil.copytree(RECIPES / "hugo", site)
    page_url = "https://blog.example/first-post/"
    client = live_server.app.test_client()
    posted = client.post("/api/v1/comments", json={"url": page_url, "text": "Fetched at build time"})
    assert posted.status_code == 201
    env = {**os.environ, "HUGO_PARAMS_COMMENTS": live_server.url}
    build = subprocess.run([hugo, "--source", str(site), "--destination", str(tmp_path / "public"),
                            "--cacheDir", str(tmp_path / "cache"), "--quiet"],
                           capture_output=True, text=True, timeout=120, env=env)
    assert build.returncode == 0, build.stderr
    page = (tmp_path / "public" / "first-post" / "index.html").read_text()
    assert published(page, page_url) == ["Fetched at build time"]
    assert f'<script src="{live_server.url}/widget.js" async data-url="{page_url}">' in page
    assert f"{live_server.url}/t?url=https%3a%2f%2fblog.example%2ffirst-post%2f" in page.lower()
