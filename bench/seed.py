"""Seed a benchmark database: about 200 threads, one hot thread of 500 nested comments.

Comments go through the service layer (``comments.create``), so they are stored
exactly as posted ones are: rendered HTML, per-thread numbers, thread versions.
"""
from __future__ import annotations

import random

SITE = "https://blog.example"
HOT = f"{SITE}/bench/hot"
SMALL = f"{SITE}/bench/small"
BASELINE_PAGE = f"{SITE}/bench/baseline-inserts"
THREADS = 200
HOT_COMMENTS = 500
MAX_DEPTH = 4

WORDS = ["comment", "thread", "reply", "widget", "server", "cache", "page", "reader", "author",
         "markdown", "link", "code", "nested", "sort", "oldest", "newest", "likes", "quick", "brown",
         "fox", "jumps", "lazy", "dog", "lorem", "ipsum", "dolor", "sit", "amet"]


def page(n: int) -> str:
    return f"{SITE}/bench/page-{n}"


def _text(rng: random.Random, i: int) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(15, 70)))
    extra = rng.choice(["", " with *emphasis*", " and `code`", "\n\n> a quote\n\nand an answer", " **bold**"])
    return f"{i}: {words}{extra}."


def seed(app, rng_seed: int = 5, hot_comments: int = HOT_COMMENTS,
         threads_count: int = THREADS) -> dict[str, int]:
    """Fill the (migrated, empty) database of ``app``; return how many rows were made (the test
    of this loader asks for fewer rows than the benchmark)."""
    from widget_server.comments import threads
    from widget_server.comments.post import Client, NewComment
    from widget_server.comments.post import post as post_comment
    from widget_server.extensions import db

    rng = random.Random(rng_seed)
    made = 0

    def post(url: str, i: int, parent_id: int | None):
        # The reader's write path, as the API takes it (moderation off: every comment is published).
        new = NewComment(url=url, title=url.rsplit("/", 1)[-1], text=_text(rng, i),
                         author=rng.choice(["Ann", "Bo", "", "Chris", "Dee"]), parent_id=parent_id,
                         website=rng.choice([None, "https://example.org/"]))
        comment, _token = post_comment(new, None, Client(f"10.9.{i % 250}.{rng.randint(1, 250)}"))
        return comment

    with app.test_request_context("/"):
        # The hot thread: 500 comments, a third top-level, the rest replies up to MAX_DEPTH deep.
        nodes: list[tuple[int, int]] = []  # (id, depth)
        for i in range(hot_comments):
            parent = None
            if nodes and i % 3:
                candidates = [n for n in nodes[-60:] if n[1] < MAX_DEPTH]
                parent = rng.choice(candidates) if candidates else None
            comment = post(HOT, i, parent[0] if parent else None)
            nodes.append((comment.id, comment.depth))
            made += 1
            if i % 100 == 99:
                db.session.commit()
        # A small thread, and ~200 ordinary ones.
        for i in range(5):
            post(SMALL, i, None)
            made += 1
        for n in range(threads_count - 2):
            for i in range(rng.randint(0, 6)):
                post(page(n), i, None)
                made += 1
            if n % 50 == 49:
                db.session.commit()
        threads.get_or_create(BASELINE_PAGE, "baseline inserts")
        db.session.commit()
    return {"comments": made}
