#!/usr/bin/env bash
# Installs the command-line tools the production tests use when they are missing:
# Debian's docker-compose 1.29 (checks docker-compose.yml offline: no Docker engine
# is needed for `docker-compose config`). PostgreSQL's initdb/pg_ctl and redis-server,
# which the fault tests run on their own ports, come with the machine's services.
# wrk is for `make bench` only, not for the tests: `apt-get install wrk`.
set -euo pipefail
packages=()
command -v docker-compose >/dev/null 2>&1 || packages+=(docker-compose)
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || packages+=(postgresql)
if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  apt_get=(apt-get)
elif command -v sudo >/dev/null 2>&1; then
  apt_get=(sudo apt-get)
else
  echo "missing test tools: install them with: apt-get install ${packages[*]}" >&2
  exit 1
fi
echo "Installing test tools: ${packages[*]}..." >&2
"${apt_get[@]}" update -qq
DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
