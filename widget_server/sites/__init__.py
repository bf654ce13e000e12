"""Many sites on one server (issue 17, docs/sites.md).

A site is a name, its origins and the settings it overrides. Code that acts for a page, a
thread or a request asks for its site and reads the site's ``config`` instead of
``current_app.config``:

    site = sites.for_url(url)          # or sites.for_thread(thread), sites.for_origin(origin)
    site.config["MODERATION"]          # the site's value, else the server's WIDGET_MODERATION

``registry`` keeps every process's view (refreshed within ``registry.CHECK_EVERY`` seconds of a
change anywhere); ``service`` adds, changes and removes sites; ``settings`` is the keys and
their checks.
"""
from __future__ import annotations

from .registry import (
    CHECK_EVERY,
    Site,
    allowed_origins,
    by_id,
    by_name,
    current,
    default,
    for_origin,
    for_thread,
    for_url,
    generation,
    init_app,
)

__all__ = ["CHECK_EVERY", "Site", "allowed_origins", "by_id", "by_name", "current", "default", "for_origin",
           "for_thread", "for_url", "generation", "init_app"]
