"""The learning filter: a naive Bayes classifier that the moderators train with every decision.

Every decision in /admin teaches it: approve (and restore, which is approving a comment
marked as spam) teaches "not spam"; spam, and delete as spam, teach "spam"; a changed
decision unlearns what the first one taught (``filter_labels`` keeps the features each
comment was learned with). ``widget-server filter train`` teaches it the comments already
stored, an imported spam folder included. Nothing leaves the machine.

**Features** (``features``): the words of the text (case-folded, each counted once), the
domains it links to and how many links there are, the text's length, whether a name, an
e-mail domain and a website are given and which. **The counts** live in one table
(``filter_tokens``: per feature, in how many spam and how many published comments it
occurs), shared by every instance. **The score** (``score``) is the probability of spam under
naive Bayes with Laplace smoothing over the features present in the comment, with equal
priors (a moderator who marks a lot of spam does not make every comment suspect), once
``WIDGET_FILTER_MIN_TRAINING`` comments of each kind were learned. Above
``WIDGET_FILTER_THRESHOLD`` a new comment is held, with the score in its reason.

Why written here rather than a library: the counts must live in the database, where every
instance learns and scores with the same numbers and a decision is one transaction; the
classifiers on PyPI keep their model in memory or a pickle (simplebayes, spambayes) or
bring NumPy and SciPy (scikit-learn). The classifier itself is twenty lines.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import Comment, FilterLabel, FilterToken

SPAM, HAM = "spam", "ham"
DOCS = "#docs"  # the row that counts the comments learned of each kind
_WORD_RE = re.compile(r"\w{2,30}")
_HREF_RE = re.compile(r'href="([^"]+)"')
MAX_FEATURES = 400


def _domain(url: str | None) -> str:
    try:
        host = urlsplit(url or "").hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")[:60]


def _bucket(n: int, edges: tuple[int, ...]) -> str:
    return next((f"<{edge}" for edge in edges if n < edge), f">={edges[-1]}")


def features(text: str, html: str, author: str, email: str | None, website: str | None) -> list[str]:
    """The features of one comment, each once, in a stable order."""
    found = dict.fromkeys(f"w:{word}" for word in _WORD_RE.findall(text.casefold()))
    links = _HREF_RE.findall(html)
    found.update(dict.fromkeys(f"d:{_domain(href)}" for href in links if _domain(href)))
    found[f"links:{_bucket(len(links), (1, 2, 4))}"] = None
    found[f"len:{_bucket(len(text), (40, 200, 800))}"] = None
    found["name:" + ("yes" if author.strip() else "none")] = None
    found["mail:" + ((email or "").rpartition("@")[2].lower()[:60] or "none")] = None
    found["site:" + (_domain(website) or "none")] = None
    return [token[:80] for token in found][:MAX_FEATURES]


def _of(comment: Comment) -> list[str]:
    return features(comment.text, comment.html, comment.author, comment.email, comment.website)


def _add(tokens: list[str], label: str, sign: int) -> None:
    rows = [{"token": token, "spam": sign if label == SPAM else 0, "ham": sign if label == HAM else 0}
            for token in [DOCS, *tokens]]
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(FilterToken).values(rows)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["token"],
        set_={"spam": FilterToken.spam + statement.excluded.spam,
              "ham": FilterToken.ham + statement.excluded.ham}))


def learn(comment: Comment, label: str) -> bool:
    """Teach the filter that ``comment`` is ``label`` (spam or ham); True if that changed what it
    knows. Call before the comment's text is cleared (a deletion). The caller commits."""
    known = db.session.get(FilterLabel, comment.id)
    if known is not None and known.label == label:
        return False
    if known is not None:  # the moderators changed their minds: unlearn the first decision
        _add(known.tokens.splitlines(), known.label, -1)
    tokens = _of(comment)
    _add(tokens, label, +1)
    if known is None:
        db.session.add(FilterLabel(comment_id=comment.id, label=label, tokens="\n".join(tokens)))
    else:
        known.label, known.tokens = label, "\n".join(tokens)
    return True


# The learned counts of a comment's features: built once, run without an ORM pass (every post).
_TOKENS = FilterToken.__table__
_COUNTS = (select(_TOKENS.c.token, _TOKENS.c.spam, _TOKENS.c.ham)
           .where(_TOKENS.c.token.in_(bindparam("tokens", expanding=True))))


@dataclass(frozen=True)
class Verdict:
    score: float  # probability of spam, 0..1
    similar: int  # spam comments learned that share its most spam-like feature

    @property
    def reason(self) -> str:
        return (f"held: {self.score:.2f} spam-like, similar to {self.similar} comments you marked "
                "as spam (learning filter)")


def score(text: str, html: str, author: str, email: str | None, website: str | None,
          learned: tuple[int, int] | None = None) -> Verdict | None:
    """How spam-like a new comment is, by what the moderators taught; None until it has learned
    ``WIDGET_FILTER_MIN_TRAINING`` comments of each kind. ``learned``: how many spam and
    genuine comments it has learned, when the caller has read them already (``screening``'s
    look-up): an untrained filter then costs nothing more."""
    minimum = current_app.config["FILTER_MIN_TRAINING"]
    if learned is not None and (learned[0] < minimum or learned[1] < minimum):
        return None
    tokens = features(text, html, author, email, website)
    counts = {row.token: row for row in db.session.connection().execute(_COUNTS, {"tokens": [DOCS, *tokens]})}
    docs = counts.get(DOCS)
    if docs is None or docs.spam < minimum or docs.ham < minimum:
        return None
    log_odds, best, similar = 0.0, 0.0, 0
    for token in tokens:
        row = counts.get(token)
        if row is None or not (row.spam or row.ham):
            continue
        p_spam = (row.spam + 1) / (docs.spam + 2)
        p_ham = (row.ham + 1) / (docs.ham + 2)
        log_odds += math.log(p_spam / p_ham)
        if row.spam >= 2 and p_spam / p_ham > best:
            best, similar = p_spam / p_ham, row.spam
    probability = 1 / (1 + math.exp(-max(-50.0, min(50.0, log_odds))))
    return Verdict(probability, similar)


def train_stored(label_of_state: dict[str, str]) -> int:
    """Learn every stored comment not learned yet whose state has a label (an import's spam
    folder: spam; its published comments: ham). How many it learned. The caller commits."""
    learned = db.session.execute(select(FilterLabel.comment_id)).scalars().all()
    rows = db.session.execute(
        select(Comment).where(Comment.state.in_(list(label_of_state)), Comment.id.not_in(learned))
        .order_by(Comment.id)).scalars()
    return sum(learn(comment, label_of_state[comment.state]) for comment in rows)
