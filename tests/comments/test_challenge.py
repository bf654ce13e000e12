"""Proof of work (issue 14): the challenge, a bot that posts without doing the work, replays,
expiry, the adaptive cost, and who is exempt. Every post here goes through a plain FlaskClient,
which (unlike the suite's SolvingClient) attaches nothing by itself."""
from __future__ import annotations

import base64
import json
import statistics

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from support import accounts as account_support
from support import factories
from support.accounts import account_config, count
from support.app import PAGE, base_config
from support.pow import TEST_COST, payload, solve_number

from widget_server import create_app
from widget_server.comments import challenge
from widget_server.extensions import db
from widget_server.models import PUBLISHED, SPAM, Comment, SpentChallenge

smtp_server = account_support.smtp_server
make_reader = account_support.make_reader


@pytest.fixture
def bot(app) -> FlaskClient:
    """A client that does exactly what it is told: no challenge unless the test fetches one."""
    return FlaskClient(app, app.response_class, use_cookies=False)


def new_challenge(client, address="198.51.100.7") -> dict:
    response = client.get("/api/v1/challenge", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200, response.json
    return response.json


def send(client, altcha=None, text="A comment", address="198.51.100.7", **more):
    body = {"url": PAGE, "text": text, **more} | ({} if altcha is None else {"altcha": altcha})
    return client.post("/api/v1/comments", json=body, environ_base={"REMOTE_ADDR": address})


def encoded(value) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def comments_stored(app) -> int:
    return count(app, Comment)


def test_a_challenge_is_altcha_v1_signed_expiring_and_never_cached(bot):
    response = bot.get("/api/v1/challenge")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    found = response.json
    assert set(found) == {"algorithm", "challenge", "maxnumber", "salt", "signature"}
    assert found["algorithm"] == "SHA-256" and found["maxnumber"] == TEST_COST
    assert "expires=" in found["salt"] and len(found["challenge"]) == 64
    assert bot.get("/api/v1/challenge").json["challenge"] != found["challenge"]


def test_200_direct_posts_without_a_solution_publish_nothing(app, bot):
    answers = [send(bot, text=f"Buy cheap pills {n}", address=f"203.0.113.{n % 250}") for n in range(200)]
    assert {a.status_code for a in answers} == {400}
    assert {a.json["error"]["code"] for a in answers} == {"challenge_required"}
    assert comments_stored(app) == 0


def test_20_replays_of_one_solved_challenge_are_accepted_once(app, bot):
    solution = payload(new_challenge(bot))
    answers = [send(bot, solution, text=f"Replay number {n}") for n in range(20)]
    assert [a.status_code for a in answers].count(201) == 1
    assert {a.json["error"]["code"] for a in answers if a.status_code != 201} == {"challenge_invalid"}
    assert comments_stored(app) == 1


def test_a_spent_challenge_is_refused_by_another_instance_on_the_same_database(app, bot, database_url,
                                                                             tmp_path):
    solution = payload(new_challenge(bot))
    assert send(bot, solution).status_code == 201
    other = create_app(base_config(database_url, tmp_path / "other"))
    replay = send(FlaskClient(other, other.response_class), solution, text="from the other instance")
    with other.app_context():
        db.engine.dispose()
    assert replay.status_code == 400 and replay.json["error"]["code"] == "challenge_invalid"
    assert comments_stored(app) == 1


def test_a_refused_post_does_not_spend_the_challenge(bot):
    solution = payload(new_challenge(bot))
    refused = send(bot, solution, text="   ")
    assert refused.status_code == 400 and refused.json["error"]["code"] == "validation_error"
    again = send(bot, solution, text="Now with words")
    assert again.status_code == 201, again.json


def _tampered(challenge_json: dict) -> dict[str, str]:
    right = solve_number(challenge_json)
    base = {"algorithm": "SHA-256", "challenge": challenge_json["challenge"], "number": right,
            "salt": challenge_json["salt"], "signature": challenge_json["signature"]}
    return {
        "not base64": "%%%not-base64%%%",
        "base64 of a list": encoded([base]),
        "a number that is not the answer": encoded(base | {"number": (right + 1) % (TEST_COST + 1)}),
        "the number as a string": encoded(base | {"number": str(right)}),
        "the number as true": encoded(base | {"number": True}),
        "no signature": encoded({k: v for k, v in base.items() if k != "signature"}),
        "a forged signature": encoded(base | {"signature": "0" * 64}),
        "another algorithm": encoded(base | {"algorithm": "SHA-1"}),
        "an expiry spliced into the salt": encoded(base | {"salt": base["salt"] + "expires=9999999999&"}),
        "our own challenge, self-signed": payload({**challenge_json, "signature": "ab" * 32}, right),
        "a huge payload": "A" * 5000,
    }


def test_a_tampered_solution_is_invalid_and_changes_nothing(app, bot):
    cases = _tampered(new_challenge(bot))
    for name, altcha in cases.items():
        refused = send(bot, altcha, text=f"tampered: {name}")
        assert refused.status_code == 400, name
        assert refused.json["error"]["code"] == "challenge_invalid", name
    assert send(bot, 12345).json["error"]["code"] == "challenge_invalid"
    assert comments_stored(app) == 0 and count(app, SpentChallenge) == 0


def test_an_expired_challenge_is_refused(bot, frozen_clock, app):
    solution = payload(new_challenge(bot))
    frozen_clock.advance(seconds=app.config["POW_TTL"] + 1)
    refused = send(bot, solution)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "challenge_invalid"
    assert "expired" in refused.json["error"]["message"]


def test_a_solver_that_does_the_work_pays_half_of_maxnumber_on_average(bot, app):
    """The work a bot does per post, in hashes: what bench/pow_cost.py turns into CPU seconds."""
    app.config["POW_COST"] = 4000
    tried = []
    for n in range(30):
        found = new_challenge(bot, address=f"192.0.2.{n}")
        number = solve_number(found)
        tried.append(number + 1)
        assert send(bot, payload(found, number), text=f"honest work {n}",
                    address=f"192.0.2.{n}").status_code == 201
    assert 0.3 * 4000 < statistics.mean(tried) < 0.7 * 4000


@pytest.mark.parametrize("config_overrides", [{"POW": "off"}], indirect=True)
def test_with_pow_off_a_post_needs_no_solution(bot):
    assert send(bot).status_code == 201


def test_the_no_script_path_post_itself_needs_no_solution(db_session):
    """post() (the no-script form's and the importers' path) does no proof-of-work check."""
    assert factories.comment("Written without scripts").state == PUBLISHED


class TestSignedIn:
    @pytest.fixture
    def config_overrides(self, smtp_server):
        return account_config(smtp_server.url)

    def test_a_signed_in_reader_is_exempt(self, bot, make_reader):
        reader = make_reader()
        response = bot.post("/api/v1/comments", json={"url": PAGE, "text": "Signed in"},
                            headers=reader.auth)
        assert response.status_code == 201, response.json


# --- the cost ---------------------------------------------------------------------------------


def _stored(state: str, address: str, n: int) -> None:
    factories.stored_comment(state=state, address=address, text=f"stored {state} {n}")


def test_the_cost_adapts_to_what_is_known_of_the_client(db_session, app, frozen_clock):
    base = app.config["POW_COST"] = 1600
    assert challenge.cost("192.0.2.10") == (base, "newcomer")
    for n in range(3):
        _stored(PUBLISHED, "192.0.2.10", n)
    assert challenge.cost("192.0.2.10") == (base * 4 // 8, "trusted+burst")
    frozen_clock.advance(minutes=11)
    assert challenge.cost("192.0.2.10") == (base // 8, "trusted")
    _stored(PUBLISHED, "192.0.2.11", 0)
    frozen_clock.advance(minutes=11)
    assert challenge.cost("192.0.2.11") == (base // 2, "returning")
    for n in range(5):
        _stored(PUBLISHED, "192.0.2.12", n)
    assert challenge.cost("192.0.2.12") == (base * 16 // 8, "trusted+burst")
    _stored(SPAM, "192.0.2.13", 0)
    assert challenge.cost("192.0.2.13") == (base * 4, "newcomer+recent spam")
    for n in range(6):
        _stored(SPAM, "192.0.2.14", n)
    assert challenge.cost("192.0.2.14") == (base * 64, "newcomer+burst+recent spam")
    assert db_session.execute(select(func.count()).select_from(Comment)).scalar_one() == 16


def test_spent_challenges_are_swept_once_expired(app, bot, frozen_clock, monkeypatch):
    monkeypatch.setattr(challenge, "CLEANUP_ONE_IN", 1)  # sweep on every post
    assert send(bot, payload(new_challenge(bot)), text="first").status_code == 201
    frozen_clock.advance(seconds=app.config["POW_TTL"] + 1)
    assert send(bot, payload(new_challenge(bot)), text="second").status_code == 201
    assert count(app, SpentChallenge) == 1  # the first one's row is gone, the second's is kept
