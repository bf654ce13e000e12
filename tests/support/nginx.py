"""Debian's nginx in front of a test server, configured from deploy/nginx.conf.template.

The template is the one the compose file's proxy runs, changed only where a test
must differ, and each change is checked to have applied (a template edit that
breaks one fails here, loudly, rather than testing something else):

- ``${WIDGET_DOMAIN}`` is ``domain``, ``${WIDGET_UPSTREAM}`` is ``upstream``,
  ``${WIDGET_STREAMS_UPSTREAM}`` is ``streams`` (default: ``upstream``) (or the
  caller passes ``filled``: the template as envsubst filled it in, docs/deploy.md);
- TLS is left out (``ssl_*`` and ``http2`` lines dropped): ``listen 443 ssl`` becomes
  a plain-HTTP port on 127.0.0.1 (``port``), ``listen 80`` another (``http_port``),
  ``listen 127.0.0.1:8080`` a third (``health_port``);
- the cache, the ACME folder and the access log live in a temporary folder
  (``access_log()`` reads the JSON lines back).

Everything else — server names, the default server, log format, headers to the app,
locations, the micro-cache — is the template's own. Use it as a context manager or
``start()``/``stop()``; with CI=true a missing nginx fails the test (``need_binary``).

    app = Gunicorn(env, log).start()
    with Nginx(f"127.0.0.1:{app.port}").start() as proxy:
        proxy.request("GET", "/healthz")                  # Host: the domain
        proxy.request("GET", "/", host="attacker.test")   # None: closed without an answer
"""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from support.processes import HTTPResult, free_port, need_binary, wait_for

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
NGINX = os.environ.get("WIDGET_TEST_NGINX", "/usr/sbin/nginx")
HOW = "scripts/install-test-tools.sh (apt-get install nginx-light)"


def nginx_binary() -> str:
    return need_binary(NGINX if Path(NGINX).exists() else shutil.which("nginx"), "nginx", HOW)


class Nginx:
    def __init__(self, upstream: str, domain: str = "comments.test", template: Path = TEMPLATE,
                 filled: str | None = None, streams: str | None = None):
        self.binary = nginx_binary()
        self.streams = streams or upstream
        self.upstream, self.domain, self.template, self.filled = upstream, domain, template, filled
        self.port, self.http_port, self.health_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = Path(tempfile.mkdtemp(prefix="widget-nginx-"))
        # Workers run as nobody when the master is root: they must reach the cache and temp folders.
        self.folder.chmod(0o755)
        self.process: subprocess.Popen | None = None

    # --- configuration ------------------------------------------------------------------

    def render(self) -> str:
        """The template as this test runs it (see the module docstring)."""
        text = self.filled if self.filled is not None else self.template.read_text()
        folder = self.folder

        def sub(pattern: str, replacement: str, flags: int = re.MULTILINE) -> None:
            nonlocal text
            text, count = re.subn(pattern, replacement, text, flags=flags)
            assert count, f"nginx.conf.template no longer has {pattern!r}: update tests/support/nginx.py"

        if self.filled is None:  # what the nginx image (compose) or envsubst (docs/deploy.md) does
            sub(r"\$\{WIDGET_DOMAIN\}", self.domain)
            sub(r"\$\{WIDGET_UPSTREAM\}", self.upstream)
            sub(r"\$\{WIDGET_STREAMS_UPSTREAM\}", self.streams)
            sub(r"\$\{WIDGET_ACCESS_LOG\}", "/dev/stdout")
        assert "${" not in text, "a variable of the template was not filled in"
        sub(r"^(\s*)listen 443 ssl\b", rf"\g<1>listen 127.0.0.1:{self.port}")
        sub(r"^(\s*)listen 80\b", rf"\g<1>listen 127.0.0.1:{self.http_port}")
        sub(r"^(\s*)listen 127\.0\.0\.1:8080\b", rf"\g<1>listen 127.0.0.1:{self.health_port}")
        sub(r"^\s*(ssl_\w+|http2)\s[^;]*;", "")
        sub(r"/var/cache/nginx/widget", str(folder / "cache"))
        sub(r"/var/www/acme", str(folder / "acme"))
        sub(r"\baccess_log \S+ widget_json;", f"access_log {folder / 'access.log'} widget_json;")
        assert not re.search(r"^\s*listen[^;]*\bssl\b", text, re.MULTILINE), "TLS left in the test config"
        return text

    def main_config(self) -> str:
        folder = self.folder
        temp = folder / "tmp"
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        return (f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\n"
                f"error_log {folder / 'error.log'} info;\n"
                "events { worker_connections 256; }\n"
                "http {\n"
                # What an nginx.conf around the template says by default (the image's does the same):
                # a server that sets no log of its own writes here, with the client's address.
                f"    access_log {folder / 'main.log'} combined;\n"
                "    default_type application/octet-stream;\n"
                + "".join(f"    {kind}_temp_path {temp / kind};\n"
                          for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
                + f"    include {folder / 'widget.conf'};\n"
                "}\n")

    # --- process ------------------------------------------------------------------------

    def start(self, timeout: float = 15) -> Nginx:
        (self.folder / "tmp").mkdir()
        (self.folder / "acme").mkdir()
        (self.folder / "widget.conf").write_text(self.render())
        (self.folder / "nginx.conf").write_text(self.main_config())
        command = [self.binary, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"),
                   "-e", str(self.folder / "error.log"), "-g", "daemon off;"]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, f"nginx -t:\n{checked.stderr}\n{self.error_log()}"
        self._stderr = open(self.folder / "stderr.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(command, stdout=self._stderr, stderr=subprocess.STDOUT)

        def up():
            if self.process.poll() is not None:
                raise AssertionError(f"nginx exited with {self.process.returncode}:\n{self.error_log()}")
            with contextlib.suppress(OSError):
                return self.request("GET", "/proxy-health", port=self.health_port).status == 200
            return False

        wait_for(up, timeout, f"nginx on {self.url}")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: workers finish, logs flushed
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process is not None:
            self._stderr.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Nginx:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    # --- requests and logs --------------------------------------------------------------

    def request(self, method: str, path: str, *, host: str | None = "", port: int | None = None,
                headers: dict | None = None, body: object = None, timeout: float = 10) -> HTTPResult | None:
        """One request on its own connection. ``host``: the Host header ("" = the domain, None = no
        Host header at all). Returns None when nginx closes the connection without an answer (444)."""
        connection = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=timeout)
        data = None
        sent = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            if host is not None:
                connection.putheader("Host", host or self.domain)
            for name, value in sent.items():
                connection.putheader(name, value)
            if data is not None:
                connection.putheader("Content-Length", str(len(data)))
            connection.endheaders(data)
            response = connection.getresponse()
            return HTTPResult(response.status, response.headers, response.read())
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return None
        finally:
            connection.close()

    def access_log(self) -> list[dict]:
        path = self.folder / "access.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def log_text(self, name: str) -> str:
        path = self.folder / name
        return path.read_text(errors="replace") if path.exists() else ""

    def error_log(self) -> str:
        return self.log_text("error.log")
