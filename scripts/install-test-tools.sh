#!/usr/bin/env bash
# Installs, from Debian's packages, what the tests need beyond Python when it is missing:
# - Chromium and fonts for the browser tests (Playwright cannot download its own browser here);
# - docker-compose 1.29, which checks docker-compose.yml offline (no Docker engine needed);
# - PostgreSQL's initdb/pg_ctl and redis-server, which the fault tests run on their own ports;
# - nginx (nginx-light), which tests/support/nginx.py runs in the foreground with deploy/nginx.conf.template;
# - systemd-analyze, envsubst and openssl for the walkthrough of docs/deploy.md;
# - Java and npm, and from the npm registry the packages in tests/support/npm/package.json
#   (the W3C Nu HTML checker, vnu.jar, which tests/support/vnu.py runs on Java);
# - npm's Eleventy is not needed: the static-site test builds with Hugo from Debian (hugo).
# - Node.js and npm, for the OpenID provider the sign-in tests run (tests/support/oidc).
# wrk is for `make bench` only, not for the tests: `apt-get install wrk`.
set -euo pipefail
packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium fonts-dejavu-core fonts-liberation)
command -v docker-compose >/dev/null 2>&1 || packages+=(docker-compose)
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || packages+=(postgresql)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || packages+=(nginx-light)
# tests/ops/test_walkthrough.py (docs/deploy.md without Docker): the unit is checked with
# systemd-analyze verify (nothing is started), nginx's config filled in by envsubst.
command -v systemd-analyze >/dev/null 2>&1 || packages+=(systemd)
command -v envsubst >/dev/null 2>&1 || packages+=(gettext-base)
command -v openssl >/dev/null 2>&1 || packages+=(openssl)
command -v java >/dev/null 2>&1 || packages+=(default-jre-headless)
command -v npm >/dev/null 2>&1 || packages+=(npm)
command -v hugo >/dev/null 2>&1 || packages+=(hugo)
npm_tools() {  # the npm registry's test tools, once (vnu-jar ships its jar: no download of its own)
  local dir
  dir="$(cd "$(dirname "$0")/../tests/support/npm" && pwd)"
  [ -f "$dir/node_modules/vnu-jar/build/dist/vnu.jar" ] \
    || npm install --prefix "$dir" --no-package-lock --no-audit --no-fund --ignore-scripts >/dev/null
}
# The OpenID provider of the sign-in tests (tests/support/oidc: the oidc-provider package from npm,
# pinned by its package-lock.json), run with Debian's Node.js.
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
install_oidc_provider() {
  local here
  here="$(cd "$(dirname "$0")/.." && pwd)/tests/support/oidc"
  if [ ! -d "$here/node_modules/oidc-provider" ]; then
    echo "Installing the test OpenID provider (npm ci in tests/support/oidc)..." >&2
    npm ci --prefix "$here" --no-audit --no-fund --loglevel=error >/dev/null
  fi
}
if [ ${#packages[@]} -eq 0 ]; then
  npm_tools
  install_oidc_provider
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "missing test tools: install them with: apt-get install ${packages[*]}" >&2
  exit 1
fi
echo "Installing test tools (about a minute): ${packages[*]}..." >&2
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "${packages[@]}" >/dev/null
# Debian starts an nginx service on port 80 where an init system runs; the tests need none.
if [[ " ${packages[*]} " == *" nginx-light "* ]] && command -v systemctl >/dev/null 2>&1 \
    && systemctl is-active --quiet nginx 2>/dev/null; then
  "${as_root[@]}" systemctl disable --now nginx >/dev/null 2>&1 || true
fi
npm_tools
install_oidc_provider
