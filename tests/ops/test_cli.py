"""The widget-server command: tokens and migrations; every mistake one line (issue 12)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from support.app import PG_URL, require_service, scratch_postgres_database
from support.imports import fixture
from support.processes import free_port

from widget_server import schema
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


# --- issue 12: every mistake one line; order does not matter; operator commands only -------------

OPERATOR_COMMANDS = {"serve", "backup", "move", "restore", "db", "token", "import", "export", "worker",
                     "filter-train", "site"}


def command(tmp_path: Path, args: list[str], **settings: str):
    """The command as an operator runs it: its app built from WIDGET_* variables (and no env file
    but the one named), not the test app."""
    # CliRunner restores only the variables named here: `serve` sets WIDGET_BIND in os.environ
    # for its gunicorn app, which must not outlive the command (it changes the server's own origin).
    env = {"WIDGET_INSTANCE_PATH": str(tmp_path / "instance"), "WIDGET_ENV_FILE": "", "WIDGET_BIND": None,
           **{f"WIDGET_{k}": v for k, v in settings.items()}}
    if args[0] == "serve":  # a port of its own: never one another test or program uses
        args = [*args, "--port", str(free_port())]
    result = CliRunner().invoke(main, args, env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def one_error_line(result, variable: str) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip() and not line.startswith("{")]
    assert len(lines) == 1 and lines[0].startswith(f"Error: {variable}"), result.output
    return lines[0]


def bad_settings(tmp_path: Path) -> list[tuple[str, dict[str, str]]]:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    return [
        ("WIDGET_RATELIMIT_POST", {"RATELIMIT_POST": "lots"}),
        ("WIDGET_PAGE_SIZE", {"PAGE_SIZE": "500"}),
        ("WIDGET_LOG_LEVEL", {"LOG_LEVEL": "chatty"}),
        ("WIDGET_INSTANCE_PATH", {"INSTANCE_PATH": str(blocker / "instance")}),
        ("WIDGET_DATABASE_URL", {"DATABASE_URL": "mysql://widget:secret@db.example/comments"}),
        ("WIDGET_DATABASE_URL", {"DATABASE_URL": "comments.db"}),
        ("WIDGET_MODERATION", {"MODERATION": "sometimes"}),
        ("WIDGET_TRUSTED_PROXIES", {"TRUSTED_PROXIES": "one"}),
        ("WIDGET_PUBLIC_URL", {"PUBLIC_URL": "comments.example.com"}),
        ("WIDGET_PUBLIC_URL", {"SMTP_URL": "smtp://mail.example"}),
        ("WIDGET_METRICS_TOKEN", {"METRICS_TOKEN": "short"}),
        ("WIDGET_WORKERS", {"WORKERS": "many"}),
        ("WIDGET_BIND", {"BIND": "localhost:http"}),
        ("WIDGET_ENV_FILE", {"ENV_FILE": str(tmp_path / "missing.env")}),
    ]


BAD_SETTING_COUNT = 14


@pytest.mark.parametrize("case", range(BAD_SETTING_COUNT))
def test_every_bad_setting_is_one_line_naming_it(tmp_path, case):
    cases = bad_settings(tmp_path)
    assert len(cases) == BAD_SETTING_COUNT
    variable, settings = cases[case]
    line = one_error_line(command(tmp_path, ["token", "list"], **settings), variable)
    assert "secret" not in line  # a database URL's password is never repeated


@pytest.mark.parametrize("args", [
    ["serve"], ["db", "upgrade"], ["db", "current"], ["token", "create"], ["token", "list"],
    ["token", "revoke", "1"], ["import", "commento", fixture("commento.json")], ["export", "-"],
    ["worker", "--once"],
])
def test_every_command_stops_at_a_bad_setting_in_one_line(tmp_path, args):
    one_error_line(command(tmp_path, args, RATELIMIT_POST="lots"), "WIDGET_RATELIMIT_POST")


def test_the_real_command_exits_1_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIDGET_")}
    env.update(WIDGET_INSTANCE_PATH=str(tmp_path), WIDGET_DATABASE_URL="mysql://u:secret@db.example/c")
    done = subprocess.run([sys.executable, "-m", "widget_server", "token", "create"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "Error: WIDGET_DATABASE_URL: mysql:// needs the Python package mysqlclient, which is not installed: "
        "pip install 'mysqlclient' into the server's environment (or use postgresql://, whose driver comes "
        "with widget-server)"]


def test_settings_that_cannot_work_together_are_a_warning_at_start(tmp_path):
    result = command(tmp_path, ["token", "list"], ACCOUNTS="true", PUBLIC_URL="https://c.example",
                     ALLOWED_ORIGINS="https://blog.example")
    assert result.exit_code == 0, result.output
    warnings = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [(w["level"], w["msg"][:42]) for w in warnings if w["level"] != "info"] == [
        ("warning", "WIDGET_ACCOUNTS=true without WIDGET_SMTP_U")]


@pytest.mark.parametrize("args, then", [
    (["token", "create", "--name", "first"], "Created admin token 'first'"),
    (["token", "list"], "no admin tokens"),
    (["token", "revoke", "1"], "Error: no admin token with id 1"),
    (["import", "commento", fixture("commento.json")], "imported"),
    (["export", "-"], '"threads"'),
    (["worker", "--once"], "delivered 0"),
    (["db", "upgrade"], "up to date"),
    (["db", "current"], "run `widget-server db upgrade`"),  # says, and changes nothing
])
def test_every_command_works_on_a_fresh_sqlite_instance(tmp_path, args, then):
    result = command(tmp_path, args)
    assert then in result.output, result.output
    assert "Traceback" not in result.output
    assert (tmp_path / "instance" / "comments.db").exists()


@pytest.fixture
def unmigrated_postgres():
    with scratch_postgres_database(require_service(PG_URL, "PostgreSQL", "WIDGET_TEST_DATABASE_URL")) as url:
        yield url


@pytest.mark.parametrize("args", [
    ["serve"], ["token", "create"], ["token", "list"], ["token", "revoke", "1"],
    ["import", "commento", fixture("commento.json")], ["export", "-"], ["worker", "--once"],
])
def test_every_command_on_an_unmigrated_postgres_says_what_to_run(tmp_path, unmigrated_postgres, args):
    result = command(tmp_path, args, DATABASE_URL=unmigrated_postgres)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1] == (
        f"Error: database schema is at nothing, the code needs {', '.join(schema.heads())}: "
        "run `widget-server db upgrade`")


def test_db_upgrade_then_the_commands_work_on_postgres(tmp_path, unmigrated_postgres):
    assert "run `widget-server db upgrade`" in command(tmp_path, ["db", "current"],
                                                       DATABASE_URL=unmigrated_postgres).output
    upgraded = command(tmp_path, ["db", "upgrade"], DATABASE_URL=unmigrated_postgres)
    assert upgraded.exit_code == 0, upgraded.output
    assert "Running upgrade" in upgraded.output
    created = command(tmp_path, ["token", "create"], DATABASE_URL=unmigrated_postgres)
    assert created.exit_code == 0, created.output


def test_a_database_that_does_not_answer_is_one_line(tmp_path):
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    line = one_error_line(command(tmp_path, ["token", "list"], DATABASE_URL=url), "WIDGET_DATABASE_URL")
    assert "the database does not answer" in line


def test_commands_read_the_servers_env_file(tmp_path):
    """`token create` in another shell writes to the running server's database, not a new one."""
    server_db = tmp_path / "server.db"
    env_file = tmp_path / "widget.env"
    env_file.write_text(f"WIDGET_DATABASE_URL=sqlite:///{server_db}\n")
    created = command(tmp_path, ["token", "create", "--name", "from-the-env-file"], ENV_FILE=str(env_file))
    assert created.exit_code == 0, created.output
    assert server_db.exists() and not (tmp_path / "instance" / "comments.db").exists()
    # .env in the instance folder is read without being named
    (tmp_path / "instance" / ".env").write_text(f"WIDGET_DATABASE_URL=sqlite:///{server_db}\n")
    env = {"WIDGET_INSTANCE_PATH": str(tmp_path / "instance"), "WIDGET_ENV_FILE": None}
    listing = CliRunner().invoke(main, ["token", "list"], env=env)
    assert "from-the-env-file" in listing.output, listing.output


def test_help_lists_the_operator_commands_only():
    out = subprocess.run([sys.executable, "-m", "widget_server", "--help"], capture_output=True, text=True,
                         check=True, env={k: v for k, v in os.environ.items() if not k.startswith("WIDGET_")}
                         ).stdout
    listed = {line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == OPERATOR_COMMANDS


@pytest.mark.parametrize("args", [
    ["db", "init"], ["db", "migrate"], ["db", "revision"], ["db", "stamp", "head"], ["db", "downgrade"],
    ["limiter", "list"], ["routes"], ["shell"],
])
def test_authoring_and_maintenance_commands_are_not_one_typo_away(tmp_path, args):
    result = command(tmp_path, args)
    assert result.exit_code == 2 and "No such command" in result.output, result.output
    assert not (tmp_path / "instance" / "migrations").exists()


def test_db_offers_upgrade_and_current():
    out = CliRunner().invoke(main, ["db", "--help"]).output
    listed = {line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == {"upgrade", "current"}
