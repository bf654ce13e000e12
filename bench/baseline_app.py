"""The ceiling: a bare Flask app under the same gunicorn settings.

GET answers the bytes (body and headers) that the real service answered for the
same URL, recorded by bench/run.py just before; a request with a matching
``If-None-Match`` gets the same 304. POST /api/v1/comments does one INSERT into
the same database (same engine options, same SQLite pragmas and write turn) and answers 201.

Served with: BENCH_RESPONSES=file BENCH_DATABASE_URL=url
    gunicorn -c python:widget_server.ops.gunicorn_conf 'bench.baseline_app:create_app()'
"""
from __future__ import annotations

import base64
import json
import os
import secrets
from datetime import UTC, datetime

from flask import Flask, Response, jsonify, request
from sqlalchemy import create_engine, text

from widget_server import sqlite_setup


def _engine(url: str):
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))  # as the service does
    if engine.dialect.name == "sqlite":
        sqlite_setup.configure(engine)  # the service's pragmas and write turn (widget_server/sqlite_setup.py)
    return engine


def create_app() -> Flask:
    app = Flask(__name__)
    with open(os.environ["BENCH_RESPONSES"]) as handle:
        recorded = json.load(handle)
    responses = {uri: (r["status"], r["headers"], base64.b64decode(r["body"])) for uri, r in recorded.items()}
    engine = _engine(os.environ["BENCH_DATABASE_URL"])
    thread_id = int(os.environ["BENCH_THREAD_ID"])
    insert = text(
        "INSERT INTO comments (thread_id, parent_id, number, depth, author, text, html, state, created_at,"
        " likes, pinned, ip_hash) VALUES (:thread_id, NULL, :number, 0, '', :text, :html, 'published',"
        " :created_at, 0, :pinned, '')")

    @app.get("/<path:_path>")
    def recorded_answer(_path):
        answer = responses.get(request.environ.get("RAW_URI") or request.full_path)
        if answer is None:  # not recorded (a run of posting alone): "up", for the start-up check
            return Response(status=404)
        status, headers, body = answer
        etag = headers.get("ETag")
        if etag and etag in request.headers.get("If-None-Match", ""):
            return Response(status=304, headers={k: v for k, v in headers.items()
                                                 if k not in ("Content-Encoding", "Content-Type")})
        return Response(body, status=status, headers=headers)

    @app.post("/api/v1/comments")
    def one_insert():
        data = request.get_json()
        with engine.begin() as conn:
            conn.execute(insert, {"thread_id": thread_id, "number": secrets.randbits(62),
                                  "text": data["text"], "html": f"<p>{data['text']}</p>",
                                  "created_at": datetime.now(UTC), "pinned": False})
        return jsonify({"comment": {"text": data["text"]}}), 201

    return app
