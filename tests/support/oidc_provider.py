"""The sign-in tests' providers, on 127.0.0.1 only:

- ``OpenIDProvider``: the certified ``oidc-provider`` package (npm, installed into
  tests/support/oidc by ``make test-tools``) run with Node.js; ``sign_in`` goes through its
  own login and consent pages the way a browser would, and returns where it sends the reader
  back to (our callback, with ``code`` and ``state``);
- ``StandIn``: a small stand-in for a Mastodon instance's app registration, OAuth and
  verify_credentials endpoints, and GitHub's OAuth and user API. It checks the client, the
  redirect URI and the PKCE verifier as they would, and counts the requests it got.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

from .processes import free_port, need_binary, wait_for

HERE = Path(__file__).resolve().parent / "oidc"
CLIENT_ID, CLIENT_SECRET = "widget-server", "widget-server test client secret"
ACCOUNTS = {
    "ann": {
        "name": "Ann Example",
        "preferred_username": "ann",
        "email": "ann@example.org",
        "email_verified": True,
    },
    "eve": {
        "name": "Eve Unverified",
        "preferred_username": "eve",
        "email": "mary@example.org",
        "email_verified": False,
    },
    "mary": {
        "name": "Mary Provider",
        "preferred_username": "mary",
        "email": "mary@example.org",
        "email_verified": True,
    },
}


class OpenIDProvider:
    def __init__(self, redirect_uris: list[str]):
        need_binary("node", "Node.js", "apt-get install nodejs (make test-tools)")
        if not (HERE / "node_modules" / "oidc-provider").is_dir():
            need_binary(
                str(HERE / "node_modules" / "oidc-provider"),
                "the test OpenID provider",
                "make test-tools (npm ci in tests/support/oidc)",
            )
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        clients = [
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": redirect_uris,
                "token_endpoint_auth_method": "client_secret_post",
            },
            {
                "client_id": "another-client",
                "client_secret": "another secret of another client",
                "redirect_uris": redirect_uris,
                "token_endpoint_auth_method": "client_secret_post",
            },
        ]
        config = {"port": self.port, "clients": clients, "accounts": ACCOUNTS}
        self.process = subprocess.Popen(
            ["node", str(HERE / "provider.mjs")],
            cwd=HERE,
            env={"PATH": "/usr/bin:/bin", "OIDC_TEST_CONFIG": json.dumps(config)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._ready, 30, "the OpenID provider to listen")

    def _ready(self) -> bool:
        try:
            return requests.get(self.issuer + "/.well-known/openid-configuration", timeout=1).ok
        except requests.RequestException:
            return False

    def entry(self, name: str = "test", **more) -> dict:
        """Its WIDGET_OIDC_PROVIDERS entry."""
        return {
            "name": name,
            "label": "Test ID",
            "issuer": self.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        } | more

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def sign_in(authorize_url: str, login: str, back_to: str) -> str:
    """Go through the provider's pages as ``login``; return the URL it sends the reader back to
    (the first redirect that starts with ``back_to``)."""
    browser = requests.Session()
    url, method, data = authorize_url, "GET", None
    for _ in range(12):
        response = browser.request(method, url, data=data, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url, method, data = urljoin(url, response.headers["Location"]), "GET", None
            if url.startswith(back_to):
                return url
            continue
        assert response.status_code == 200, (response.status_code, response.text[:500])
        action = re.search(r'<form[^>]*action="([^"]+)"', response.text)
        prompt = re.search(r'name="prompt" value="(\w+)"', response.text)
        assert action and prompt, response.text[:1000]
        url, method = urljoin(url, action[1].replace("&amp;", "&")), "POST"
        data = {"prompt": prompt[1]} | ({"login": login, "password": "any"} if prompt[1] == "login" else {})
    raise AssertionError("the provider never sent the reader back")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


class StandIn:
    """Mastodon's /api/v1/apps, /oauth/authorize, /oauth/token, /api/v1/accounts/verify_credentials,
    and GitHub's /login/oauth/authorize, /login/oauth/access_token, /user, /user/emails."""

    def __init__(self):
        self.requests: list[str] = []
        self.apps: dict[str, dict] = {}  # client_id -> {"secret", "redirect_uris"}
        self.codes: dict[str, dict] = {}  # code -> {"client_id", "challenge", "redirect_uri", "user"}
        self.tokens: dict[str, str] = {}  # access token -> user
        self.users = {
            "ann": {
                "id": "109",
                "username": "ann",
                "display_name": "Ann on Mastodon",
                "login": "ann-gh",
                "name": "Ann on GitHub",
                "email": "ann@example.org",
            }
        }
        self.next_user = "ann"
        self.github = {"client_id": "gh-client", "secret": "gh-secret"}
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: object = None, location: str | None = None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _form(self) -> dict:
                length = int(self.headers.get("Content-Length", "0"))
                return {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}

            def do_GET(self):  # noqa: N802
                parts = urlsplit(self.path)
                stand_in.requests.append(f"GET {parts.path}")
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path in ("/oauth/authorize", "/login/oauth/authorize"):
                    return self._send(*stand_in.authorize(query))
                user = stand_in.tokens.get(self.headers.get("Authorization", "").removeprefix("Bearer "))
                if user is None:
                    return self._send(401, {"error": "The access token is invalid"})
                profile = stand_in.users[user]
                if parts.path == "/api/v1/accounts/verify_credentials":
                    return self._send(
                        200,
                        {
                            "id": profile["id"],
                            "username": profile["username"],
                            "acct": profile["username"],
                            "display_name": profile["display_name"],
                        },
                    )
                if parts.path == "/user":
                    return self._send(
                        200, {"id": int(profile["id"]), "login": profile["login"], "name": profile["name"]}
                    )
                if parts.path == "/user/emails":
                    return self._send(200, [{"email": profile["email"], "primary": True, "verified": True}])
                return self._send(404, {"error": "not found"})

            def do_POST(self):  # noqa: N802
                path = urlsplit(self.path).path
                stand_in.requests.append(f"POST {path}")
                form = self._form()
                if path == "/api/v1/apps":
                    client_id = secrets.token_urlsafe(8)
                    stand_in.apps[client_id] = {
                        "secret": secrets.token_urlsafe(16),
                        "redirect_uris": form.get("redirect_uris", ""),
                    }
                    return self._send(
                        200, {"client_id": client_id, "client_secret": stand_in.apps[client_id]["secret"]}
                    )
                if path in ("/oauth/token", "/login/oauth/access_token"):
                    return self._send(*stand_in.token(form))
                return self._send(404, {"error": "not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def _secret(self, client_id: str) -> str | None:
        if client_id == self.github["client_id"]:
            return self.github["secret"]
        return self.apps.get(client_id, {}).get("secret")

    def authorize(self, query: dict) -> tuple:
        """The reader approves at once; the code remembers the PKCE challenge."""
        client_id = query.get("client_id", "")
        if self._secret(client_id) is None or query.get("code_challenge_method") != "S256":
            return 400, {"error": "invalid_request"}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "client_id": client_id,
            "challenge": query.get("code_challenge"),
            "redirect_uri": query.get("redirect_uri"),
            "user": self.next_user,
        }
        back = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query.get("state", "")})
        return 302, None, back

    def token(self, form: dict) -> tuple:
        grant = self.codes.pop(form.get("code", ""), None)  # a code works once
        if (
            grant is None
            or form.get("client_id") != grant["client_id"]
            or form.get("client_secret") != self._secret(grant["client_id"])
            or form.get("redirect_uri") != grant["redirect_uri"]
        ):
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        access = secrets.token_urlsafe(16)
        self.tokens[access] = grant["user"]
        return 200, {"access_token": access, "token_type": "Bearer", "scope": "read:accounts"}

    def start(self) -> StandIn:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
