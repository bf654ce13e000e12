"""docs/deploy.md, "Production without Docker", followed on this machine (issue 12).

What the page says is what runs: its SQL for the database and role, its env file, its
`ws` way of running commands, its envsubst command for nginx, its pg_dump, createdb and
pg_restore commands, and the shipped unit's ExecStart line. Only names, ports and folders
differ: a scratch role and databases on the shared PostgreSQL (dropped afterwards), the
shared Redis (every rate-limit key is a hash keyed by this run's own secret key, so nothing
meets another run's keys), a free port for gunicorn, the nginx test changes of
support/nginx.py (TLS off, temporary folders), a temporary folder for /etc/widget-server,
and /opt/widget-server being this checkout. CI has no systemd: the unit is checked with
`systemd-analyze verify`, and its ExecStart runs directly with the env file's variables, as
systemd's EnvironmentFile= passes them. Everything runs as root here (runuser is left out).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from support.app import PG_URL, REDIS_URL, require_service
from support.nginx import Nginx, nginx_binary
from support.pow import payload
from support.processes import free_port, http, need_binary, wait_for

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "widget-server.service"
OPT = "/opt/widget-server"
DOC = (ROOT / "docs" / "deploy.md").read_text("utf-8")
SECTION = DOC.split("## Production without Docker", 1)[1].split("\n## ", 1)[0]
DOMAIN = "comments.example.com"
SITE = "https://blog.example.com"
# What a site owner must set, and what the issue names.
REQUIRED = {"WIDGET_DATABASE_URL", "WIDGET_REDIS_URL", "WIDGET_PUBLIC_URL", "WIDGET_SECRET_KEY",
            "WIDGET_ALLOWED_ORIGINS", "WIDGET_TRUSTED_PROXIES", "WIDGET_BIND", "WIDGET_INSTANCE_PATH"}
WS = "set -a && . /etc/widget-server/env && set +a"


# --- the page's commands ------------------------------------------------------------------------


def blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", SECTION, re.DOTALL)


def block_with(marker: str) -> str:
    found = [b for b in blocks() if marker in b]
    assert len(found) == 1, f"docs/deploy.md: expected one sh block with {marker!r}, found {len(found)}"
    return found[0]


def command(program: str, containing: str = "") -> list[str]:
    """The arguments of the page's one command line running ``program`` (continuations joined)."""
    text = "\n".join(blocks()).replace("\\\n", " ")
    found = [line for line in text.splitlines()
             if re.search(rf"(^|\s){program}\s", line) and containing in line]
    assert len(found) == 1, f"docs/deploy.md: expected one {program} command, found {found}"
    words = shlex.split(found[0], comments=True)
    return words[words.index(program) + 1:]


def unit_settings(section: str = "Service") -> dict[str, str]:
    settings, current = {}, None
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            current = line.strip("[]")
        elif current == section and line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            settings[key] = value
    return settings


def on_this_machine(path: str) -> str:
    """/opt/widget-server is this checkout."""
    assert path == OPT or path.startswith(OPT + "/"), path
    return str(ROOT) + path[len(OPT):]


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines, as systemd's EnvironmentFile= reads the page's plain values."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def psql(sql: str, *options: str, database: str = "postgres") -> None:
    server = urlsplit(require_service(PG_URL, "PostgreSQL", "WIDGET_TEST_DATABASE_URL"))
    subprocess.run([need_binary("psql", "psql", "apt-get install postgresql-client"), *pg_args(server),
                    "-X", "-q", "-v", "ON_ERROR_STOP=1", *options, database],
                   input=sql, text=True, check=True, capture_output=True, timeout=60)


def pg_args(server=None) -> list[str]:
    server = server or urlsplit(PG_URL)
    return ["-h", server.hostname, "-p", str(server.port or 5432), "-U", server.username or "postgres"]


# --- the deployment ------------------------------------------------------------------------------


class Deployment:
    def __init__(self, folder: Path):
        self.folder = folder
        self.name = f"widget_walk_{uuid.uuid4().hex[:10]}"  # the role and its database
        self.restored = f"{self.name}_restored"
        self.password = secrets.token_hex(24)
        self.etc = folder / "etc"
        self.env_file = self.etc / "env"
        self.port = free_port()
        self.gunicorn: subprocess.Popen | None = None
        self.proxy: Nginx | None = None
        self.token = ""

    # step 3: the page's SQL, with the role's and database's name
    def create_database(self) -> None:
        block = block_with("<<'SQL'")
        sql = block.split("<<'SQL'\n", 1)[1].split("\nSQL", 1)[0]
        assert "-v password=" in block
        psql(re.sub(r"\bwidget\b", self.name, sql), "-v", f"password={self.password}")

    def drop_databases(self) -> None:
        psql(f'DROP DATABASE IF EXISTS "{self.restored}" WITH (FORCE);\n'
             f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE);\n'
             f'DROP ROLE IF EXISTS "{self.name}";\n')

    # step 4: the page's env file, in a 0600 file made as the page makes it
    def database_url(self, database: str) -> str:
        server = urlsplit(PG_URL)
        return (f"postgresql://{self.name}:{self.password}@{server.hostname}:{server.port or 5432}/"
                f"{database}")

    def write_env_file(self) -> dict[str, str]:
        lines = block_with("# /etc/widget-server/env").splitlines()
        documented = {k: v for k, _, v in (line.partition("=") for line in lines
                                           if line and not line.startswith("#"))}
        assert set(documented) >= REQUIRED, REQUIRED - set(documented)
        assert documented["WIDGET_DATABASE_URL"] == "postgresql://widget:DB_PASSWORD@127.0.0.1:5432/widget"
        here = {"WIDGET_DATABASE_URL": self.database_url(self.name),
                "WIDGET_REDIS_URL": require_service(REDIS_URL, "Redis", "WIDGET_TEST_REDIS_URL"),
                "WIDGET_SECRET_KEY": secrets.token_urlsafe(48),
                "WIDGET_BIND": f"127.0.0.1:{self.port}",
                "WIDGET_INSTANCE_PATH": str(self.folder / "var-lib-widget-server")}
        self.etc.mkdir(mode=0o755)
        install = command("install", "/dev/null")  # -m 0600 /dev/null /etc/widget-server/env
        assert install[-1] == "/etc/widget-server/env"
        subprocess.run(["install", *install[:-1], str(self.env_file)], check=True)
        text = "".join(f"{k}={v}\n" if k not in here else f"{k}={here[k]}\n"
                       for k, v in documented.items())
        with self.env_file.open("a") as file:  # the page's sudoedit: the mode stays
            file.write(text)
        return read_env_file(self.env_file)

    # step 5: `ws COMMAND`: the env file's settings in the environment, then widget-server
    def ws(self, *args: str, env_file: Path | None = None) -> subprocess.CompletedProcess:
        assert WS in block_with("ws()")
        script = WS.replace("/etc/widget-server/env", shlex.quote(str(env_file or self.env_file)))
        clean = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
        done = subprocess.run(
            ["bash", "-c", f'{script} && exec {shlex.quote(str(ROOT / ".venv/bin/widget-server"))} "$@"',
             "ws", *args], env=clean, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"ws {' '.join(args)}: {done.stderr}"
        return done

    # step 6: the unit's ExecStart, as systemd would run it
    def start_gunicorn(self) -> None:
        service = unit_settings()
        assert service["EnvironmentFile"] == "/etc/widget-server/env"
        argv = shlex.split(service["ExecStart"])
        argv[0] = on_this_machine(argv[0])
        env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", **read_env_file(self.env_file)}
        self._log = open(self.folder / "gunicorn.log", "wb")  # noqa: SIM115 - closed in stop()
        self.gunicorn = subprocess.Popen(argv, cwd=on_this_machine(service["WorkingDirectory"]), env=env,
                                         stdout=self._log, stderr=subprocess.STDOUT)

        def ready():
            if self.gunicorn.poll() is not None:
                raise AssertionError(f"ExecStart exited with {self.gunicorn.returncode}:\n{self.log()}")
            try:  # the page's check: curl http://127.0.0.1:8000/readyz
                return http("GET", f"http://127.0.0.1:{self.port}/readyz", timeout=2).status == 200
            except OSError:
                return False

        wait_for(ready, 30, "the unit's ExecStart to answer /readyz")

    def log(self) -> str:
        return (self.folder / "gunicorn.log").read_text(errors="replace")

    # step 7: the page's envsubst command, then support/nginx.py's test changes (TLS off)
    def render_nginx(self, access_log: str) -> str:
        assignments = block_with("envsubst").split("envsubst", 1)[0]
        names = dict(re.findall(r"(WIDGET_\w+)=(\S+)", assignments))
        assert names == {"WIDGET_DOMAIN": DOMAIN, "WIDGET_UPSTREAM": "127.0.0.1:8000",
                         "WIDGET_STREAMS_UPSTREAM": "127.0.0.1:8000",
                         "WIDGET_ACCESS_LOG": "/var/log/nginx/widget-access.log"}
        (shell_format,) = command("envsubst")[:1]
        values = {"WIDGET_DOMAIN": DOMAIN, "WIDGET_UPSTREAM": f"127.0.0.1:{self.port}",
                  "WIDGET_STREAMS_UPSTREAM": f"127.0.0.1:{self.port}", "WIDGET_ACCESS_LOG": access_log}
        envsubst = need_binary("envsubst", "envsubst", "apt-get install gettext-base")
        done = subprocess.run([envsubst, shell_format],
                              input=(ROOT / "deploy" / "nginx.conf.template").read_text(), text=True,
                              env={"PATH": os.environ["PATH"], **values}, capture_output=True, check=True)
        return done.stdout

    def start_nginx(self) -> None:
        self.proxy = Nginx(f"127.0.0.1:{self.port}", domain=DOMAIN,
                           filled=self.render_nginx("/var/log/nginx/widget-access.log")).start()

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        if self.gunicorn is not None:
            if self.gunicorn.poll() is None:
                self.gunicorn.send_signal(signal.SIGTERM)  # KillMode=mixed: SIGTERM to gunicorn
            try:
                self.gunicorn.wait(25)
            except subprocess.TimeoutExpired:
                self.gunicorn.kill()
                self.gunicorn.wait(5)
            self._log.close()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    require_service(PG_URL, "PostgreSQL", "WIDGET_TEST_DATABASE_URL")
    require_service(REDIS_URL, "Redis", "WIDGET_TEST_REDIS_URL")
    nginx_binary()
    deployed = Deployment(tmp_path_factory.mktemp("walkthrough"))
    deployed.create_database()
    try:
        deployed.write_env_file()
        instance = Path(read_env_file(deployed.env_file)["WIDGET_INSTANCE_PATH"])
        instance.mkdir(mode=0o700)
        deployed.ws("db", "upgrade")
        created = deployed.ws("token", "create", "--name", "walkthrough")
        deployed.token = created.stdout.strip().splitlines()[-1]  # the last line is the token
        deployed.start_gunicorn()
        deployed.start_nginx()
        yield deployed
    finally:
        deployed.stop()
        deployed.drop_databases()


PAGE = f"{SITE}/2026/12/walkthrough"


def test_the_env_file_is_root_only(deployment):
    assert deployment.env_file.stat().st_mode & 0o777 == 0o600


def test_the_demo_page_through_nginx(deployment):
    answer = deployment.proxy.request("GET", "/demo")
    assert answer.status == 200, answer.body[:300]
    assert b'<script src="/widget.js"' in answer.body
    widget = deployment.proxy.request("GET", "/widget.js")
    assert widget.status == 200 and widget.body


def solved(proxy) -> str:
    """A proof of work at the deployment's own (default) cost, solved as a reader's browser would."""
    challenge = proxy.request("GET", "/api/v1/challenge", headers={"Origin": SITE})
    assert challenge.status == 200, challenge.body
    return payload(challenge.json)


def test_a_comment_is_posted_and_read_through_nginx(deployment):
    proxy, origin = deployment.proxy, {"Origin": SITE}
    posted = proxy.request("POST", "/api/v1/comments", headers=origin,
                           body={"url": PAGE, "author": "Ann", "text": "Following the walkthrough",
                                 "altcha": solved(proxy)})
    assert posted.status == 201, posted.body
    read = proxy.request("GET", f"/api/v1/comments?url={PAGE}", headers=origin)
    assert read.status == 200
    assert "Following the walkthrough" in read.body.decode()
    # Any other name gets no answer (nginx's default server).
    assert proxy.request("GET", "/healthz", host="attacker.test") is None


def test_the_admin_api_with_the_created_token(deployment):
    proxy = deployment.proxy
    assert proxy.request("GET", "/api/v1/admin/comments").status == 401
    listed = proxy.request("GET", "/api/v1/admin/comments",
                           headers={"Authorization": f"Bearer {deployment.token}"})
    assert listed.status == 200, listed.body
    assert "Following the walkthrough" in listed.body.decode()


def test_backup_and_restore(deployment, tmp_path):
    proxy = deployment.proxy
    text = f"Kept across a restore {uuid.uuid4().hex}"
    assert proxy.request("POST", "/api/v1/comments", headers={"Origin": SITE},
                         body={"url": PAGE, "author": "Bo", "text": text,
                               "altcha": solved(proxy)}).status == 201

    # The nightly line: pg_dump [options] widget > file
    cron = block_with("pg_dump")
    (dump_options,) = re.findall(r"pg_dump ((?:-\S+ )*)widget >", cron)
    dump = tmp_path / "widget.dump"
    with dump.open("wb") as out:
        subprocess.run([need_binary("pg_dump", "pg_dump", "apt-get install postgresql-client"), *pg_args(),
                        *dump_options.split(), deployment.name], stdout=out, check=True, timeout=120)

    def ours(args: list[str]) -> list[str]:
        mapped = {"widget": deployment.name, "--role=widget": f"--role={deployment.name}",
                  "--owner=widget": f"--owner={deployment.name}", "widget_restored": deployment.restored}
        return [str(dump) if a.endswith(".dump") else mapped.get(a, a) for a in args]

    createdb, pg_restore = command("createdb"), command("pg_restore")
    assert createdb[-1] == "widget_restored" and "widget_restored" in pg_restore
    subprocess.run([shutil.which("createdb") or "createdb", *pg_args(), *ours(createdb)],
                   check=True, capture_output=True, timeout=60)
    restored = subprocess.run([shutil.which("pg_restore") or "pg_restore", *pg_args(), *ours(pg_restore)],
                              capture_output=True, text=True, timeout=120)
    assert restored.returncode == 0, restored.stderr

    # The restored database, checked as the page says: `ws export`.
    env_file = tmp_path / "env-restored"
    env_file.write_text(deployment.env_file.read_text().replace(
        deployment.database_url(deployment.name), deployment.database_url(deployment.restored)))
    exported = tmp_path / "check.json"
    deployment.ws("export", str(exported), env_file=env_file)
    assert text in exported.read_text()
    assert "Following the walkthrough" in exported.read_text()
    json.loads(exported.read_text())


# --- the unit itself ------------------------------------------------------------------------------


def test_the_unit_passes_systemd_analyze_verify(tmp_path):
    analyze = need_binary("systemd-analyze", "systemd-analyze", "apt-get install systemd")
    # verify checks that ExecStart's program exists: /opt/widget-server is this checkout.
    text = UNIT.read_text().replace(f"={OPT}/", f"={ROOT}/").replace(f"={OPT}\n", f"={ROOT}\n")
    assert OPT + "/.venv" not in text
    unit = tmp_path / "widget-server.service"
    unit.write_text(text)
    done = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stdout + done.stderr


def test_the_unit_runs_the_documented_command_hardened():
    service = unit_settings()
    assert shlex.split(service["ExecStart"]) == [
        f"{OPT}/.venv/bin/gunicorn", "-c", "python:widget_server.ops.gunicorn_conf",
        "widget_server:create_app()"]
    assert "gunicorn -c python:widget_server.ops.gunicorn_conf" in SECTION
    assert service["User"] == "widget" and service["EnvironmentFile"] == "/etc/widget-server/env"
    assert service["Type"] == "notify"  # gunicorn's arbiter sends READY=1
    for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "ProtectHome=yes",
                   "StateDirectory=widget-server", "CapabilityBoundingSet="):
        key, value = option.split("=", 1)
        assert service.get(key) == value, option
    # The instance folder is the service's writable state folder.
    assert "WIDGET_INSTANCE_PATH=/var/lib/widget-server" in block_with("# /etc/widget-server/env")


def test_the_tls_config_is_accepted_by_this_nginx(deployment, tmp_path):
    """The page's TLS steps: its config with TLS on, its self-signed placeholder, and on nginx
    older than 1.25.1 its sed command, checked by `nginx -t` (ports and folders moved)."""
    binary = nginx_binary()
    openssl = command("openssl")
    certs = tmp_path / "certs"
    certs.mkdir()
    subprocess.run(["openssl", *[a.replace("/etc/nginx/certs", str(certs)) for a in openssl]],
                   check=True, capture_output=True, timeout=60)
    config = tmp_path / "widget-server.conf"
    config.write_text(deployment.render_nginx(str(tmp_path / "access.log")))
    version = subprocess.run([binary, "-v"], capture_output=True, text=True).stderr
    if tuple(int(n) for n in re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", version).groups()) < (1, 25, 1):
        sed = command("sed")
        assert sed[-1] == "/etc/nginx/conf.d/widget-server.conf"
        subprocess.run(["sed", *sed[:-1], str(config)], check=True)
        assert "listen 443 ssl http2;" in config.read_text()
    text = config.read_text().replace("/etc/nginx/certs", str(certs))
    for path in ("/var/cache/nginx/widget", "/var/www/acme"):
        text = text.replace(path, str(tmp_path / path.strip("/").replace("/", "-")))
    text = re.sub(r"listen (443|80|127\.0\.0\.1:8080)\b", lambda m: f"listen 127.0.0.1:{free_port()}", text)
    assert "ssl_certificate" in text and "listen 127.0.0.1:" in text
    config.write_text(text)
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\n"
                    "events {}\nhttp {\n"
                    + "".join(f"    {kind}_temp_path {tmp_path / kind};\n"
                              for kind in ("client_body", "proxy"))
                    + f"    include {config};\n}}\n")
    checked = subprocess.run([binary, "-t", "-p", str(tmp_path), "-c", str(main),
                              "-e", str(tmp_path / "e.log")], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
