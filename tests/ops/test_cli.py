"""The widget-server command: tokens and migrations."""
from __future__ import annotations

import subprocess
import sys

from sqlalchemy import select

from widget_server.extensions import db
from widget_server.models import AdminToken
from widget_server.ops.cli import main
from widget_server.security import token_hash


def invoke(runner, *args):
    return runner.invoke(main, list(args), catch_exceptions=False)


def test_token_create_prints_the_token_last_and_stores_only_its_hash(app, runner, client):
    result = invoke(runner, "token", "create", "--name", "ci")
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    assert len(token) >= 40
    with app.app_context():
        row = db.session.execute(select(AdminToken)).scalar_one()
        assert row.name == "ci" and row.token_hash == token_hash(token) and token not in row.token_hash
    response = client.delete("/api/v1/admin/comments/1", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404  # authenticated; the comment just does not exist


def test_token_list_and_revoke(app, runner, client):
    token = invoke(runner, "token", "create", "--name", "alice").output.strip().splitlines()[-1]
    listing = invoke(runner, "token", "list").output
    assert "alice" in listing and token not in listing and "active" in listing
    assert invoke(runner, "token", "revoke", "1").exit_code == 0
    assert "revoked" in invoke(runner, "token", "list").output
    response = client.delete("/api/v1/admin/comments/1", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_revoking_an_unknown_token_is_a_clear_error(runner):
    result = runner.invoke(main, ["token", "revoke", "42"])
    assert result.exit_code != 0 and "no admin token with id 42" in result.output


def test_console_script_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "widget_server", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for command in ("serve", "db", "token"):
        assert command in out


def test_token_list_shows_read_only_use(app, runner, client):
    token = invoke(runner, "token", "create", "--name", "reader").output.strip().splitlines()[-1]
    assert "last used never" in invoke(runner, "token", "list").output
    response = client.get("/api/v1/admin/comments", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert "last used never" not in invoke(runner, "token", "list").output
