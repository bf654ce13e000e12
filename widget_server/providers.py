"""``WIDGET_OIDC_PROVIDERS``: the sign-in providers a site owner configures, read and checked at start.

A JSON list of objects (docs/accounts.md, "Sign-in providers"). A name that is a
preset fills in what everyone would write alike: ``google``, ``microsoft`` and
``gitlab`` are OpenID Connect issuers; ``github`` is plain OAuth2 (no ID token:
its API says who the reader is); ``mastodon`` has no client at all, since the
server registers itself with each instance a reader names. Any other name is an
OpenID Connect provider with its own ``issuer``.

Everything wrong with the list is one ``ConfigError`` naming the entry, at start;
a provider whose discovery document cannot be fetched is only found out later,
and then it is a warning and a disabled button (accounts/providers_live.py).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .config_values import PREFIX, ConfigError, plain_http_url

OIDC, GITHUB, MASTODON = "oidc", "github", "mastodon"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
SSO = "sso"  # the host site's own login: an identity provider name no entry may take

# name -> what the preset fills in (an entry may still say each of these itself).
PRESETS: dict[str, dict[str, object]] = {
    "google": {"kind": OIDC, "label": "Google", "issuer": "https://accounts.google.com"},
    # "common": work, school and personal accounts; the issuer in its discovery document is a
    # template ({tenantid}) that each ID token's "tid" fills in.
    "microsoft": {"kind": OIDC, "label": "Microsoft",
                  "issuer": "https://login.microsoftonline.com/common/v2.0"},
    "gitlab": {"kind": OIDC, "label": "GitLab", "issuer": "https://gitlab.com"},
    "github": {"kind": GITHUB, "label": "GitHub", "scopes": ["read:user", "user:email"],
               "authorize_url": "https://github.com/login/oauth/authorize",
               "token_url": "https://github.com/login/oauth/access_token",
               "api_url": "https://api.github.com"},
    "mastodon": {"kind": MASTODON, "label": "Mastodon", "scopes": ["read:accounts"]},
}
OIDC_SCOPES = ["openid", "profile", "email"]
KEYS = {"name", "issuer", "client_id", "client_secret", "scopes", "label",
        "authorize_url", "token_url", "api_url"}  # the last three: GitHub Enterprise (and tests)


@dataclass(frozen=True)
class Provider:
    name: str
    kind: str
    label: str
    issuer: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    scopes: tuple[str, ...] = ()
    authorize_url: str = ""
    token_url: str = ""
    api_url: str = ""

    def public(self) -> dict:
        """What the widget may know of it."""
        return {"name": self.name, "label": self.label, "instance": self.kind == MASTODON}


def _fail(index: int, name: object, problem: str) -> ConfigError:
    which = f"entry {index + 1}" + (f" ({name!r})" if isinstance(name, str) and name else "")
    return ConfigError(f"{PREFIX}OIDC_PROVIDERS: {which} {problem} (docs/accounts.md lists the fields)")


def _url(value: object, *, insecure_ok: bool) -> bool:
    return isinstance(value, str) and plain_http_url(value) and (
        insecure_ok or value.startswith("https://"))


def _scopes(value: object) -> tuple[str, ...] | None:
    if isinstance(value, str):
        value = value.split()
    if isinstance(value, list) and value and all(isinstance(s, str) and s and " " not in s for s in value):
        return tuple(value)
    return None


def _provider(index: int, entry: object, insecure_ok: bool) -> Provider:
    if not isinstance(entry, dict):
        raise _fail(index, None, "is not an object")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME.match(name) or name == SSO:
        raise _fail(index, name, "needs a \"name\" of lower-case letters, digits, - or _ (not \"sso\")")
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise _fail(index, name, f"has unknown fields: {', '.join(unknown)}")
    merged = {**PRESETS.get(name, {"kind": OIDC, "label": name}),
              **{k: v for k, v in entry.items() if v is not None}}
    kind = merged["kind"]
    for key in ("label", "client_id", "client_secret"):
        if key in merged and (not isinstance(merged[key], str) or not merged[key].strip()):
            raise _fail(index, name, f"has an empty or non-text \"{key}\"")
    if kind == MASTODON:
        if "client_id" in entry or "client_secret" in entry:
            raise _fail(index, name, "needs no client: the server registers itself with each instance")
    elif not merged.get("client_id") or not merged.get("client_secret"):
        raise _fail(index, name, "needs \"client_id\" and \"client_secret\" (from registering this "
                    "server with the provider)")
    if kind == OIDC and not _url(merged.get("issuer"), insecure_ok=insecure_ok):
        raise _fail(index, name, "needs an \"issuer\": the provider's https URL (its discovery "
                    "document is at ISSUER/.well-known/openid-configuration)")
    for key in ("authorize_url", "token_url", "api_url"):
        if kind == GITHUB and not _url(merged.get(key), insecure_ok=insecure_ok):
            raise _fail(index, name, f"has a \"{key}\" that is not an https URL")
    scopes = _scopes(merged.get("scopes", OIDC_SCOPES))
    if scopes is None or (kind == OIDC and "openid" not in scopes):
        raise _fail(index, name, "has \"scopes\" that are not a list of scope names with \"openid\"")
    return Provider(name=name, kind=kind, label=merged["label"].strip(),
                    issuer=str(merged.get("issuer", "")).rstrip("/"),
                    client_id=str(merged.get("client_id", "")),
                    client_secret=str(merged.get("client_secret", "")),
                    scopes=scopes, authorize_url=str(merged.get("authorize_url", "")),
                    token_url=str(merged.get("token_url", "")),
                    api_url=str(merged.get("api_url", "")).rstrip("/"))


def parse(raw: str, *, insecure_ok: bool = False) -> list[Provider]:
    """The providers of the setting's JSON, each checked; ``insecure_ok`` lets http:// URLs pass
    (WIDGET_OIDC_ALLOW_PRIVATE, which only tests set)."""
    if not raw.strip():
        return []
    try:
        entries = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}OIDC_PROVIDERS is not JSON ({exc.msg} at character {exc.pos}): "
                          "write a list such as [{\"name\": \"google\", \"client_id\": \"...\", "
                          "\"client_secret\": \"...\"}]") from None
    if not isinstance(entries, list):
        raise ConfigError(f"{PREFIX}OIDC_PROVIDERS must be a JSON list of providers")
    found = [_provider(i, entry, insecure_ok) for i, entry in enumerate(entries)]
    names = [p.name for p in found]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{PREFIX}OIDC_PROVIDERS names {name!r} twice")
    return found
