"""A re-import that updates: the same source again changes what changed there, adds what is
new, duplicates nothing, and leaves alone what only a moderator here changed."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update
from support.imports import counts, fixture, run

from widget_server.extensions import db
from widget_server.models import PENDING, SPAM, Comment


def _by_key(app) -> dict[str, Comment]:
    with app.app_context():
        rows = db.session.execute(select(Comment)).scalars().all()
        db.session.expunge_all()
    return {c.import_key: c for c in rows}


def _edited_source(tmp_path):
    """The fixture as the source site had it a month later."""
    text = Path(fixture("disqus.xml")).read_text(encoding="utf-8")
    text = text.replace("<p>Answering the deleted one.</p>", "<p>Answering the deleted one (edited).</p>")
    first = text.index('<post dsq:id="101">')
    flag = text.index("<isDeleted>false</isDeleted>", first)
    text = text[:flag] + "<isDeleted>true</isDeleted>" + text[flag + len("<isDeleted>false</isDeleted>"):]
    new_post = ('<post dsq:id="999"><message><![CDATA[<p>A new one</p>]]></message>'
                "<createdAt>2020-02-01T00:00:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>"
                '<author><name>Zed</name></author><thread dsq:id="10"/></post>\n</disqus>')
    text = text.replace("</disqus>", new_post)
    path = tmp_path / "later.xml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_same_source_again_updates_what_changed_there(runner, app, client, tmp_path):
    run(runner, "import", "disqus", fixture("disqus.xml"))
    before = _by_key(app)
    stored = counts(app)
    with app.app_context():  # a moderator here holds one back: the source says nothing new about it
        db.session.execute(update(Comment).where(Comment.import_key == "disqus:103").values(state=PENDING))
        db.session.commit()
    moderated = {k: (c.text, c.state, c.author) for k, c in _by_key(app).items()}
    later = _edited_source(tmp_path)

    dry = run(runner, "import", "disqus", later, "--dry-run")
    assert "would import 1 comments" in dry.output
    assert "would update 2 comments imported before that changed at the source" in dry.output
    assert "text 2" in dry.output and "state 1" in dry.output and "author 1" in dry.output
    assert {k: (c.text, c.state, c.author) for k, c in _by_key(app).items()} == moderated  # nothing written

    result = run(runner, "import", "disqus", later)
    assert "imported 1 comments" in result.output and "updated 2 comments" in result.output
    after = _by_key(app)
    assert counts(app) == (stored[0], stored[1] + 1)
    assert after["disqus:104"].text == "Answering the deleted one (edited)."
    assert after["disqus:104"].html == "<p>Answering the deleted one (edited).</p>"
    assert after["disqus:101"].state == "deleted" and after["disqus:101"].text == ""
    assert after["disqus:101"].author == "" and after["disqus:101"].email is None
    assert after["disqus:103"].state == PENDING  # unchanged at the source: the moderator's word stands
    assert after["disqus:999"].text == "A new one"
    assert {k: c.id for k, c in after.items() if k in before} == {k: c.id for k, c in before.items()}

    again = run(runner, "import", "disqus", later)
    assert "imported 0 comments" in again.output and "updated" not in again.output
    assert counts(app) == (stored[0], stored[1] + 1)


def test_a_deleted_comment_shows_as_deleted_to_readers_after_the_update(runner, app, client, tmp_path):
    run(runner, "import", "disqus", fixture("disqus.xml"))
    page = "https://blog.example/2020/01/hello"
    texts = [c["html"] for c in client.get("/api/v1/comments", query_string={"url": page}).json["comments"]]
    run(runner, "import", "disqus", _edited_source(tmp_path))
    now = client.get("/api/v1/comments", query_string={"url": page}).json["comments"]
    assert [c["html"] for c in now] != texts  # the thread's version moved: the cache saw it


def test_comments_imported_before_digests_existed_get_one_and_stay_as_they_are(runner, app, tmp_path):
    run(runner, "import", "disqus", fixture("disqus.xml"))
    with app.app_context():
        db.session.execute(update(Comment).values(import_hash=None))
        db.session.execute(update(Comment).where(Comment.import_key == "disqus:105").values(state=SPAM))
        db.session.commit()
    result = run(runner, "import", "disqus", _edited_source(tmp_path))
    assert "updated" not in result.output
    rows = _by_key(app)
    assert all(c.import_hash for c in rows.values())
    assert rows["disqus:104"].text == "Answering the deleted one."  # a baseline, not an update
    assert rows["disqus:105"].state == SPAM
    assert "updated" not in run(runner, "import", "disqus", _edited_source(tmp_path)).output
    assert "updated 2 comments" in run(runner, "import", "disqus", fixture("disqus.xml")).output
