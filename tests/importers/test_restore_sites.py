"""Two sites, exported and restored into an empty server (issue 17 across a move): every site with
its origins and settings, and every token, ban, audit entry, webhook and thread still of its own
site, even when this server hands the sites other ids. A site's secret settings come only with
--with-secrets, and a row naming a site the file does not have fails the whole restore."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support.app import base_config, wipe
from support.imports import run
from support.sites import ALPHA, BETA, bearer, build_world

from widget_server import clock, create_app, sites
from widget_server.accounts import sso
from widget_server.extensions import db
from widget_server.models import AdminToken, AuditEntry, Ban, Comment, Site, Thread, WebhookDelivery
from widget_server.sites import service

ALPHA_SECRETS = {"webhook_secret": "alpha-webhook-key-" + "a" * 24, "sso_secret": "alpha-sso-key-" + "b" * 32}
SERVER_SSO = "the-new-servers-own-sso-key-" + "c" * 16  # the default site's, never alpha's
RESTORED = "restored into an empty server"


def build(app, client) -> dict:
    """The default site (with an origin and a setting of its own), alpha (secrets, webhooks) and
    beta (every comment held), each with tokens, comments, a ban and its audit entries."""
    with app.app_context():
        service.update_site("default", {"admin_email": "blog@blog.example"}, origins=["https://blog.example"])
        db.session.commit()
        service.changed()
    world = build_world(app, client)
    with app.app_context():
        service.update_site("alpha", {"webhook_urls": "https://hooks.alpha.example/in", **ALPHA_SECRETS})
        service.update_site("beta", {"moderation": "all"})
        alpha = service.get("alpha").id
        db.session.add(WebhookDelivery(delivery_id="a" * 32, event="comment.created", body="{}", attempts=0,
                                       url="https://hooks.alpha.example/in", last_error="", site_id=alpha,
                                       next_attempt_at=clock.now() + timedelta(days=1)))  # waits
        db.session.commit()
        service.changed()
    return world


def all_of(model) -> list:
    return list(db.session.execute(select(model)).scalars())


def described(app) -> dict:
    """Every row that names a site, with the site by name (``missing N``: a site id no site has)."""
    with app.app_context():
        rows = db.session.execute(select(Site)).scalars().all()
        name = {row.id: row.name for row in rows}

        def site(site_id):
            return None if site_id is None else name.get(site_id, f"missing {site_id}")

        found = {
            "sites": {row.name: (json.loads(row.origins), json.loads(row.settings)) for row in rows},
            "tokens": sorted((t.name, site(t.site_id), t.role or "") for t in all_of(AdminToken)),
            "bans": sorted((b.value, site(b.site_id) or "") for b in all_of(Ban)),
            "audit": sorted((a.action, a.target, site(a.site_id) or "") for a in all_of(AuditEntry)),
            "webhooks": sorted((w.delivery_id, site(w.site_id) or "") for w in all_of(WebhookDelivery)),
            "threads": sorted((t.url, site(t.site_id) or "") for t in all_of(Thread)),
        }
        db.session.remove()
        return found


def exported(app, tmp_path: Path, *flags: str, name: str = "export.json") -> tuple[Path, dict]:
    """``widget-server export`` of the built server into ``name``: the file and what it holds."""
    path = tmp_path / name
    run(app.test_cli_runner(), "export", path, *flags)
    return path, json.loads(path.read_text())


def empty_server(database_url: str, folder: Path, *, sites_first: tuple[str, ...] = ()):
    """A new server on the emptied database: the default site's row as the migration makes it, and
    the sites named made before the restore (so the file's ids are taken by others here)."""
    folder.mkdir()
    fresh = create_app(base_config(database_url, folder, ACCOUNTS=True, SSO_SECRET=SERVER_SSO,
                                        PUBLIC_URL="https://comments.example"))
    with fresh.app_context():
        service.default_row()
        for name in sites_first:
            service.add(name, [{"alpha": ALPHA, "beta": BETA}[name]])
        db.session.commit()
        service.changed()
    return fresh


def site_ids(app) -> dict[str, int]:
    with app.app_context():
        ids = {name: site_id for name, site_id in db.session.execute(select(Site.name, Site.id))}
        db.session.remove()
        return ids


def comment_status(app, token: str, comment_id: int) -> int:
    return app.test_client().get(f"/api/v1/admin/comments/{comment_id}", headers=bearer(token)).status_code


@pytest.mark.parametrize("secrets", [True, False], ids=["with-secrets", "without-secrets"])
def test_every_row_stays_with_its_site_under_other_ids(app, client, database_url, tmp_path, secrets):
    world = build(app, client)
    before, ids_before = described(app), site_ids(app)
    path = tmp_path / "export.json"
    flags = ("--with-secrets",) if secrets else ()
    run(app.test_cli_runner(), "export", path, *flags)
    raw = path.read_text()
    exported = {s["name"]: json.loads(s["settings"]) for s in json.loads(raw)["sites"]}
    assert set(exported) == {"default", "alpha", "beta"}
    for key, value in ALPHA_SECRETS.items():
        assert (value in raw) is secrets
        assert exported["alpha"][key] == (value if secrets else "")  # left out, but named
    wipe(app)

    # beta is made first here, so it takes the id alpha had: the file's ids would cross the sites.
    fresh = empty_server(database_url, tmp_path / "new", sites_first=("beta",))
    assert site_ids(fresh)["beta"] == ids_before["alpha"]
    result = run(fresh.test_cli_runner(), "import", "json", path, *flags)
    assert RESTORED in result.output and "3 sites" in result.output, result.output
    after = described(fresh)
    assert site_ids(fresh)["alpha"] != ids_before["alpha"]
    if not secrets:  # everything else as it was; the secrets empty, and the summary says what to set
        before["sites"]["alpha"][1].update(dict.fromkeys(ALPHA_SECRETS, ""))
        assert "widget-server site set" in result.output
        assert "alpha: sso_secret, webhook_secret" in result.output
    else:
        assert "site set" not in result.output
    assert after == before
    assert not any(site is not None and site.startswith("missing") for row in after["tokens"] for site in row)

    # Each site's tokens see its own comments, and the other site's are 404, as before the move.
    for mine, theirs in (("alpha", "beta"), ("beta", "alpha")):
        for role in ("owner", "moderator"):
            token = world[f"{mine}_{role}"]
            assert comment_status(fresh, token, world[mine]["comment"]) == 200
            assert comment_status(fresh, token, world[theirs]["comment"]) == 404
            assert comment_status(fresh, token, world[theirs]["held"]) == 404
    assert comment_status(fresh, world["global"], world["beta"]["comment"]) == 200

    # Each site's settings are in force: beta holds every comment, alpha publishes; alpha's sign-in
    # takes its own key, or none (never the server's) when the secrets were left out.
    reader = fresh.test_client()
    held = reader.post("/api/v1/comments", json={"url": f"{BETA}/new", "text": "Hi"},
                       headers={"Origin": BETA})
    assert held.status_code == 202 and held.json["comment"]["state"] == "pending", held.json
    shown = reader.post("/api/v1/comments", json={"url": f"{ALPHA}/new", "text": "Hi"},
                        headers={"Origin": ALPHA})
    assert shown.status_code == 201, shown.json
    with fresh.app_context():
        alpha = sites.by_name("alpha")
        assert alpha.config["SSO_SECRET"] == (ALPHA_SECRETS["sso_secret"] if secrets else "")
        assert sso.enabled(alpha) is secrets and sso.enabled(sites.default())
        assert sites.default().config["ADMIN_EMAIL"] == "blog@blog.example"
        assert sites.for_url("https://blog.example/x").is_default
    wipe(fresh)


def test_a_row_naming_a_site_the_file_lacks_fails_and_writes_nothing(app, client, database_url, tmp_path):
    build(app, client)
    path, data = exported(app, tmp_path)
    moderator = next(t for t in data["admin_tokens"] if t["name"] == "alpha-moderator")
    moderator["site_id"] = 999  # a site the file does not have
    path.write_text(json.dumps(data))
    wipe(app)

    fresh = empty_server(database_url, tmp_path / "new")
    before = described(fresh)
    result = run(fresh.test_cli_runner(), "import", "json", path, expect_ok=False)
    assert result.exit_code != 0
    assert "nothing was written" in result.output
    assert f"admin_tokens {moderator['id']} names site 999" in result.output
    assert "global" in result.output  # says why it is not made a global token
    assert described(fresh) == before
    with fresh.app_context():
        assert db.session.execute(select(func.count()).select_from(Comment)).scalar_one() == 0
    wipe(fresh)


def test_an_export_of_one_site_brings_the_site_with_its_settings_and_tokens(app, client, database_url,
                                                                          tmp_path):
    world = build(app, client)
    path, data = exported(app, tmp_path, "--site", "alpha", "--with-secrets", name="alpha.json")
    assert [s["name"] for s in data["sites"]] == ["alpha"]
    wipe(app)

    # Another client's site is made here first (with the id alpha had).
    fresh = empty_server(database_url, tmp_path / "new", sites_first=("beta",))
    result = run(fresh.test_cli_runner(), "import", "json", path, "--with-secrets")
    assert RESTORED in result.output, result.output
    after = described(fresh)
    settings = {"webhook_urls": "https://hooks.alpha.example/in", **ALPHA_SECRETS}
    assert after["sites"]["alpha"] == ([ALPHA], settings)
    assert after["sites"]["beta"] == ([BETA], {})  # this server's own beta, untouched
    assert sorted(t for t in after["tokens"]) == [("alpha-moderator", "alpha", "moderator"),
                                                  ("alpha-owner", "alpha", "owner")]
    assert {site for *_, site in after["audit"]} == {"alpha"}
    assert {site for _, site in after["threads"]} == {"alpha"}
    token = world["alpha_owner"]
    assert comment_status(fresh, token, world["alpha"]["comment"]) == 200
    listed = fresh.test_client().get("/api/v1/admin/me", headers=bearer(token))
    assert listed.status_code == 200 and "alpha" in json.dumps(listed.json), listed.json
    wipe(fresh)


def test_an_origin_this_server_gives_another_site_fails_the_restore(app, client, database_url, tmp_path):
    build(app, client)
    path, _data = exported(app, tmp_path)
    wipe(app)
    fresh = empty_server(database_url, tmp_path / "new")
    with fresh.app_context():
        service.add("gamma", [ALPHA])  # alpha's origin, under another name
        db.session.commit()
    result = run(fresh.test_cli_runner(), "import", "json", path, expect_ok=False)
    assert "nothing was written" in result.output and ALPHA in result.output and "'gamma'" in result.output
    assert set(described(fresh)["sites"]) == {"default", "gamma"}
    wipe(fresh)


def test_an_export_made_before_the_sites_were_keeps_the_default_sites_rows_only(app, client, database_url,
                                                                                tmp_path):
    build(app, client)
    path, data = exported(app, tmp_path, name="older.json")
    default = next(s["id"] for s in data.pop("sites") if s["name"] == "default")  # as older releases wrote
    assert default == 1  # what the migrations give the default site on every server
    path.write_text(json.dumps(data))
    wipe(app)
    fresh = empty_server(database_url, tmp_path / "new")
    refused = run(fresh.test_cli_runner(), "import", "json", path, expect_ok=False)
    assert "nothing was written" in refused.output and "export again with this release" in refused.output

    # Only global rows and the default site's: those restore, onto this server's default site.
    for name in ("admin_tokens", "bans", "webhook_deliveries"):
        data[name] = [row for row in data[name] if row.get("site_id") in (None, 1)]
    for entry in data["audit_log"]:
        entry["site_id"] = 1
    path.write_text(json.dumps(data))
    result = run(fresh.test_cli_runner(), "import", "json", path)
    assert RESTORED in result.output
    after = described(fresh)
    assert set(after["sites"]) == {"default"} and {t[1] for t in after["tokens"]} == {None}
    assert after["audit"] and {site for *_, site in after["audit"]} == {"default"}
    assert {site for _, site in after["threads"]} == {"default"}  # this server has no other site
    wipe(fresh)


def test_a_bad_origin_fails_the_restore_and_a_bad_setting_is_kept_with_a_note(app, client, database_url,
                                                                              tmp_path):
    build(app, client)
    path, data = exported(app, tmp_path)
    beta = next(s for s in data["sites"] if s["name"] == "beta")
    beta["origins"] = json.dumps(["not an origin"])
    path.write_text(json.dumps(data))
    wipe(app)
    fresh = empty_server(database_url, tmp_path / "new")
    refused = run(fresh.test_cli_runner(), "import", "json", path, expect_ok=False)
    assert "nothing was written" in refused.output and "'beta'" in refused.output, refused.output

    beta["origins"] = json.dumps([BETA])
    beta["settings"] = json.dumps({"moderation": "sometimes", "pow": "off"})  # as the registry skips it
    path.write_text(json.dumps(data))
    result = run(fresh.test_cli_runner(), "import", "json", path)
    assert RESTORED in result.output and "not valid here" in result.output, result.output
    with fresh.app_context():
        beta_site = sites.by_name("beta")
        assert beta_site.overrides == {"moderation": "sometimes", "pow": "off"}  # as it was there
        assert beta_site.config["POW"] == "off"
        assert beta_site.config["MODERATION"] == fresh.config["MODERATION"]
    wipe(fresh)


def test_sites_after_the_rows_that_name_them_fail_the_restore(app, client, database_url, tmp_path):
    build(app, client)
    path, data = exported(app, tmp_path)
    data["sites"] = data.pop("sites")  # last: the rows before it were read as naming no site of the file
    path.write_text(json.dumps(data))
    wipe(app)
    fresh = empty_server(database_url, tmp_path / "new")
    before = described(fresh)
    refused = run(fresh.test_cli_runner(), "import", "json", path, expect_ok=False)
    assert "nothing was written" in refused.output, refused.output
    assert described(fresh) == before
    wipe(fresh)
