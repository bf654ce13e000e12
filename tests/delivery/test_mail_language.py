"""Reader mails in the reader's language (issue 19): the widget sends ``lang`` with the requests
that lead to mail; it is kept on the subscription and the account for the mails sent later;
a value without a language file is ignored (English), never an error. Admin mails stay English."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from support import accounts as account_support
from support.accounts import PASSWORD, account_config, link_path, link_with, send_outbox, text_of

from widget_server.extensions import db
from widget_server.models import Subscription, User

smtp_server = account_support.smtp_server
ALICE, MARY = "alice@example.org", "mary@example.org"

# The words expected, written out here (not read from the language files): subjects, a line of
# the text, and the link's lifetime as ICU words it (Arabic and Hebrew have a dual: "2 hours").
LANGUAGES = {
    "de": {"confirm": "Benachrichtigungen bei Antworten bestätigen",
           "reply": "Neue Antwort auf Ihren Kommentar zu „Fish“",
           "intro": "Bob hat auf Ihren Kommentar #1 zu „Fish“ geantwortet:",
           "reset": "Passwort Ihres Kommentarkontos zurücksetzen", "lifetime": "2 Stunden lang"},
    "ar": {"confirm": "أكّد إشعارات الردود",
           "reply": "ردّ جديد على تعليقك في «Fish»",
           "intro": "ردّ Bob على تعليقك رقم 1 في «Fish»:",
           "reset": "إعادة تعيين كلمة مرور حساب التعليقات", "lifetime": "ومدة صلاحيته ساعتان"},
}


@pytest.fixture
def config_overrides(smtp_server):
    return account_config(smtp_server.url, RESET_LINK_LIFETIME=7200)


def subjects(smtp_server, address):
    return [m["Subject"] for m in smtp_server.to(address)]


def stored_languages(app, model):
    with app.app_context():
        return db.session.execute(select(model.lang)).scalars().all()


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_reply_notifications_in_the_language_asked_in(client, app, smtp_server, post, lang):
    words = LANGUAGES[lang]
    parent = post("Question", title="Fish", author="Alice", email=ALICE, notify=True, lang=lang)["comment"]
    send_outbox(app)
    (ask,) = smtp_server.to(ALICE)
    assert ask["Subject"] == words["confirm"]
    assert client.post(link_path(link_with(ask, "/mail/confirm?token="))).status_code == 200
    assert stored_languages(app, Subscription) == [lang]

    post("Answer", author="Bob", parent_id=parent["id"])  # the replier's language is not the reader's
    send_outbox(app)
    reply = smtp_server.to(ALICE)[-1]
    assert reply["Subject"] == words["reply"]
    assert words["intro"] in text_of(reply)
    assert "Answer" in text_of(reply) and "/mail/unsubscribe?token=" in text_of(reply)


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_password_reset_in_the_language_asked_in(client, app, smtp_server, lang):
    client.post("/api/v1/auth/signup", json={"email": MARY, "display_name": "Mary"})
    send_outbox(app)
    confirm = link_with(smtp_server.to(MARY)[0], "/account/confirm?token=")
    chosen = {"password": PASSWORD, "password_again": PASSWORD}
    assert client.post(link_path(confirm), data=chosen).status_code == 200

    assert client.post("/api/v1/auth/forgot", json={"email": MARY, "lang": lang}).status_code == 202
    send_outbox(app)
    message = smtp_server.to(MARY)[-1]
    assert message["Subject"] == LANGUAGES[lang]["reset"]
    assert LANGUAGES[lang]["lifetime"] in text_of(message)
    assert "Mary" in text_of(message) and "/account/reset?token=" in text_of(message)


def test_an_account_keeps_the_language_of_its_sign_up(client, app, smtp_server):
    """Sign-up in German (any regional tag): the link's mail, and later mails asked without a
    language (an older widget), are German."""
    client.post("/api/v1/auth/signup", json={"email": MARY, "display_name": "Mary", "lang": "de-AT"})
    send_outbox(app)
    (signup,) = smtp_server.to(MARY)
    assert signup["Subject"] == "Bestätigen Sie Ihr Kommentarkonto"
    assert "Hallo Mary," in text_of(signup) and "1 Tag lang" in text_of(signup)
    done = client.post(link_path(link_with(signup, "/account/confirm?token=")),
                       data={"password": PASSWORD, "password_again": PASSWORD})
    assert done.status_code == 200
    assert stored_languages(app, User) == ["de"]

    client.post("/api/v1/auth/forgot", json={"email": MARY})
    client.post("/api/v1/auth/signup", json={"email": MARY, "display_name": "Mary 2"})  # a known address
    send_outbox(app)
    assert subjects(smtp_server, MARY)[1:] == ["Passwort Ihres Kommentarkontos zurücksetzen",
                                               "Jemand wollte sich mit Ihrer Adresse registrieren"]


@pytest.mark.parametrize("lang", [None, "en", "xx", "english", "de_DE; DROP", "<b>", "d" * 40, 7, ["de"],
                                  {"de": 1}, True])
def test_no_language_or_a_bad_one_is_english_and_no_error(client, app, smtp_server, post, lang):
    body = {} if lang is None else {"lang": lang}
    post("Question", title="Fish", email=ALICE, notify=True, **body)
    signup = client.post("/api/v1/auth/signup", json={"email": MARY, "display_name": "Mary", **body})
    assert signup.status_code == 202
    send_outbox(app)
    assert subjects(smtp_server, ALICE) == ["Confirm reply notifications"]
    assert subjects(smtp_server, MARY) == ["Confirm your comments account"]
    assert "for 1 day" in text_of(smtp_server.to(MARY)[0])
    assert stored_languages(app, Subscription) == [None]
