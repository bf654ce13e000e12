"""Atom 1.0 feeds of published comments, for readers who follow discussions.

``GET /api/v1/feed.atom?url=U`` is the feed of one page's thread;
``GET /api/v1/feed.atom`` (no ``url``) holds the most recent comments of every
allowed site on this server. Both list published comments only, newest first,
each linking to its permalink ``<page URL>#comment-<number>``.

Entry content is the comment's stored, already sanitized HTML, sent as
``type="html"``: the XML serializer escapes it, so it is text to any XML
parser and markup only to a feed reader that renders it, exactly as the
widget does. Ids are ``urn:uuid:`` URIs derived from the permalink, so they
stay the same across requests and servers.
"""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, SubElement, tostring

from flask import Blueprint, Response, request
from sqlalchemy import select

from .. import clock, fields, web
from ..clock import iso
from ..cors import origin_allowed, require_page_allowed
from ..errors import ValidationError
from ..extensions import db
from ..hosts import base_url
from ..models import PUBLISHED, Comment, Thread
from ..urls import BadURL, origin_of, permalink
from . import threads

bp = Blueprint("feeds", __name__, url_prefix="/api/v1")

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
DEFAULT_LIMIT, MAX_LIMIT = 50, 100
ANONYMOUS = "Anonymous"
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str | None) -> str:
    return _NOT_XML.sub("", value or "")


def _urn(name: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, name).urn


def _add(parent: Element, tag: str, text: str | None = None, **attrs: str) -> Element:
    element = SubElement(parent, tag, attrs)
    if text is not None:
        element.text = _text(text)
    return element


def _feed(feed_id: str, title: str, page: str, updated: datetime, comments: list[Comment]) -> bytes:
    feed = Element("feed", {"xmlns": ATOM})
    _add(feed, "id", feed_id)
    _add(feed, "title", title, type="text")
    _add(feed, "updated", iso(updated))
    self_url = base_url() + request.full_path.rstrip("?")
    _add(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _add(feed, "link", rel="alternate", type="text/html", href=page)
    author = _add(feed, "author")
    _add(author, "name", "widget-server")
    _add(feed, "generator", "widget-server")
    for c in comments:
        link = permalink(c.thread.url, c.number)
        name = c.author or ANONYMOUS
        entry = _add(feed, "entry")
        _add(entry, "id", _urn(link))
        _add(entry, "title", f"{name} on {c.thread.title or c.thread.url}", type="text")
        _add(entry, "published", iso(c.created_at))
        _add(entry, "updated", iso(c.edited_at or c.created_at))
        _add(entry, "link", rel="alternate", type="text/html", href=link)
        who = _add(entry, "author")
        _add(who, "name", name)
        if c.website:
            _add(who, "uri", c.website)
        _add(entry, "content", c.html, type="html")
    return tostring(feed, encoding="utf-8", xml_declaration=True)


def _limit() -> int:
    return web.int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)


def _latest(comments: list[Comment], default: datetime) -> datetime:
    return max((c.edited_at or c.created_at for c in comments), default=default)


def _response(body: bytes) -> Response:
    return Response(body, mimetype="application/atom+xml", content_type=MEDIA_TYPE,
                    headers={"Cache-Control": "public, max-age=60"})


@bp.get("/feed.atom")
def feed():
    raw_url = request.args.get("url")
    if raw_url is None:
        return _site_feed()
    errors: dict[str, str] = {}
    url = fields.page_url(raw_url, errors)
    if errors:
        raise ValidationError(errors)
    require_page_allowed(url)
    limit = _limit()
    thread = threads.find(url)
    comments: list[Comment] = []
    if thread is not None:
        comments = list(db.session.execute(
            select(Comment).where(Comment.thread_id == thread.id, Comment.state == PUBLISHED)
            .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(limit)
        ).scalars())
    title = thread.title if thread is not None and thread.title else url
    created = thread.created_at if thread is not None else datetime(1970, 1, 1, tzinfo=UTC)
    return _response(_feed(_urn(f"widget-server:feed:{url}"), f"Comments on {title}", url,
                           _latest(comments, created), comments))


def _allowed(url: str) -> bool:
    try:
        return origin_allowed(origin_of(url))
    except BadURL:
        return False


@bp.get("/feeds/recent.atom")
def _site_feed():
    """Recent comments of every allowed site (also ``/api/v1/feed.atom`` without ``url``)."""
    limit = _limit()
    comments: list[Comment] = []
    offset, batch = 0, limit * 2
    while len(comments) < limit and offset < limit * 20:
        rows = list(db.session.execute(
            select(Comment).join(Thread, Thread.id == Comment.thread_id).where(Comment.state == PUBLISHED)
            .order_by(Comment.created_at.desc(), Comment.id.desc()).offset(offset).limit(batch)
        ).scalars())
        comments.extend(c for c in rows if _allowed(c.thread.url))
        if len(rows) < batch:
            break
        offset += batch
    comments = comments[:limit]
    home = base_url() + "/"
    return _response(_feed(_urn(f"widget-server:feed:{home}"), "Recent comments", home,
                           _latest(comments, clock.now()), comments))
