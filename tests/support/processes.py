"""Real processes for the production tests: gunicorn instances, and a throwaway
PostgreSQL and Redis that the fault tests may stop and restart.

The shared PostgreSQL (5432) and Redis (6379) are used by everyone on the
machine at once and are never restarted: a test that needs to break a service
starts its own here, on a free port, in a temporary folder.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from glob import glob
from pathlib import Path

import pytest

from support.pow import TEST_COST, payload

ROOT = Path(__file__).resolve().parent.parent.parent
VENV_BIN = Path(sys.executable).parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def need_binary(path: str | None, what: str, how: str) -> str:
    """The binary's path; in CI a missing one fails the test instead of skipping it."""
    if path and (shutil.which(path) or Path(path).exists()):
        return shutil.which(path) or path
    if IN_CI:
        pytest.fail(f"CI=true but {what} is missing: {how}")
    pytest.skip(f"{what} is missing: {how}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class HTTPResult:
    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def json(self):
        return json.loads(self.body) if self.body else None


def http(method: str, url: str, body: object = None, headers: dict | None = None,
         timeout: float = 10) -> HTTPResult:
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - our own server
            return HTTPResult(response.status, response.headers, response.read())
    except urllib.error.HTTPError as exc:
        return HTTPResult(exc.code, exc.headers, exc.read())


class Gunicorn:
    """``gunicorn -c python:widget_server.ops.gunicorn_conf 'widget_server:create_app()'`` on a free port."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 2, threads: int = 4):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("WIDGET_", "PROMETHEUS_"))},
            "WIDGET_BIND": f"127.0.0.1:{self.port}",
            "WIDGET_WORKERS": str(workers),
            "WIDGET_THREADS": str(threads),
            "WIDGET_POW_COST": str(TEST_COST),  # proof of work on, solved in microseconds by post()
            **env,
        }
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> Gunicorn:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "python:widget_server.ops.gunicorn_conf",
             "widget_server:create_app()"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT)

        def up():
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            try:
                return http("GET", self.url + "/healthz", timeout=2).status == 200
            except OSError:
                return False

        wait_for(up, timeout, f"gunicorn on {self.url}")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The worker processes' ids (the master's children)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    found.append(int(stat.parent.name))
        return found

    def log_records(self) -> list[dict]:
        records = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    records.append(json.loads(line))
        return records

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 25) -> int | None:
        if self.process is None:
            return None
        try:
            if self.process.poll() is None:
                self.process.send_signal(sig)
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)
        finally:
            self._log.close()

    def get(self, path: str, **kw) -> HTTPResult:
        return http("GET", self.url + path, **kw)

    def post(self, path: str, body: object, **kw) -> HTTPResult:
        """A POST; a new comment without ``altcha`` gets a solved challenge first, as from the widget."""
        if path == "/api/v1/comments" and isinstance(body, dict) and "altcha" not in body:
            challenge = self.get("/api/v1/challenge", headers=kw.get("headers"),
                                 timeout=kw.get("timeout", 10))
            if challenge.status != 200:  # a fault (503, 429): the widget would not post either
                return challenge
            body = {**body, "altcha": payload(challenge.json)}
        return http("POST", self.url + path, body, **kw)


def migrate(database_url: str, instance: Path) -> None:
    """``widget-server db upgrade``, the documented upgrade command, as a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIDGET_")}
    env.update(WIDGET_DATABASE_URL=database_url, WIDGET_INSTANCE_PATH=str(instance),
               WIDGET_SECRET_KEY="test-secret-key")
    subprocess.run([str(VENV_BIN / "widget-server"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=60)


# --- a throwaway PostgreSQL ---------------------------------------------------------------


def postgres_bin(name: str) -> str:
    found = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return need_binary(found[-1] if found else shutil.which(name), f"PostgreSQL's {name}",
                       "apt-get install postgresql")


class ThrowawayPostgres:
    """A PostgreSQL server of our own in a temporary folder, on a free port.

    PostgreSQL refuses to run as root: as root it runs as the ``postgres`` user,
    in a folder of its own under the system's temp folder (pytest's folders are
    private to root). ``fsync=off`` is safe here: the tests kill the server
    process, never the machine, and the operating system keeps every committed write.
    """

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="widget-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.initdb, self.pg_ctl = postgres_bin("initdb"), postgres_bin("pg_ctl")
        self._as = []
        if os.geteuid() == 0:
            runuser = need_binary("runuser", "runuser", "apt-get install util-linux")
            self._as = [runuser, "-u", "postgres", "--"]
            shutil.chown(self.folder, "postgres")

    def _run(self, *args: str, timeout: float = 30) -> None:
        done = subprocess.run([*self._as, *args], capture_output=True, timeout=timeout)
        if done.returncode:
            raise AssertionError(f"{' '.join(args[:2])} failed: {done.stderr.decode(errors='replace')}")

    def init(self) -> ThrowawayPostgres:
        self._run(self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync", timeout=60)
        return self

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off "
                   "-c max_connections=60")
        self._run(self.pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"),
                  "-w", "-t", "20", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "-t", "20", "stop")

    def cleanup(self) -> None:
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def running(self) -> bool:
        return subprocess.run([*self._as, self.pg_ctl, "-D", str(self.data), "status"],
                              capture_output=True).returncode == 0


# --- a throwaway Redis --------------------------------------------------------------------


class ThrowawayRedis:
    def __init__(self, folder: Path):
        self.binary = need_binary("redis-server", "redis-server", "apt-get install redis-server")
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
            return False

        wait_for(up, 10, "redis-server")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
