"""Optional Akismet check (only when ``WIDGET_AKISMET_KEY`` is set).

Without the key this module is never called and nothing leaves the machine.
With it, each new comment (its text, name, e-mail, website, page URL, and the
poster's IP address and user agent, which Akismet needs to judge) is sent to
``WIDGET_AKISMET_URL``/1.1/comment-check. If Akismet cannot be reached or
answers anything but ``true``/``false``, the comment is not marked spam (fail
open): the local rules and the moderation mode still apply.
"""
from __future__ import annotations

import logging
import urllib.error
import urllib.request
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from flask import current_app

from ..urls import origin_of

if TYPE_CHECKING:
    from .post import Author, Client, NewComment

log = logging.getLogger(__name__)
TIMEOUT = 3.0


def is_spam(new: NewComment, author: Author, client: Client) -> bool:
    cfg = current_app.config
    form = {
        "api_key": cfg["AKISMET_KEY"],
        "blog": origin_of(new.url),
        "permalink": new.url,
        "user_ip": client.address,
        "user_agent": client.user_agent,
        "referrer": client.referrer,
        "comment_type": "reply" if new.parent_id else "comment",
        "comment_author": author.name,
        "comment_author_email": author.email or "",
        "comment_author_url": author.website or "",
        "comment_content": new.text,
        "blog_charset": "UTF-8",
    }
    endpoint = cfg["AKISMET_URL"].rstrip("/") + "/1.1/comment-check"
    if not endpoint.startswith(("https://", "http://")):
        log.warning("WIDGET_AKISMET_URL must be an http(s) URL; skipping the Akismet check")
        return False
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        endpoint, data=urlencode(form).encode(), method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "User-Agent": "widget-server/0.1 | akismet-check"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            answer = response.read(64).decode("ascii", "replace").strip()
    except (urllib.error.URLError, OSError) as exc:
        log.warning("Akismet unreachable (%s); comment not checked", exc.__class__.__name__)
        return False
    if answer not in ("true", "false"):
        log.warning("Akismet answered %r (is the key valid?); comment not checked", answer[:20])
        return False
    return answer == "true"
