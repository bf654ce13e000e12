#!/usr/bin/env bash
# Installs Debian's Chromium (and fonts) for the browser tests when it is missing.
# Playwright's own browser download cannot work here, so the tests drive /usr/bin/chromium.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
packages=(chromium fonts-dejavu-core fonts-liberation)
if [ "$(id -u)" = 0 ]; then
  apt_get=(apt-get)
elif command -v sudo >/dev/null 2>&1; then
  apt_get=(sudo apt-get)
else
  echo "Chromium is missing: install it with: apt-get install ${packages[*]}" >&2
  exit 1
fi
echo "Installing Chromium for the browser tests (about a minute)..." >&2
"${apt_get[@]}" update -qq
DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
