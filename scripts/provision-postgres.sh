#!/usr/bin/env bash
# Makes PostgreSQL's server binaries available (Debian's `postgresql` package) for the tests,
# which start their own throwaway cluster. Nothing is started here.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; then
  exit 0
fi
echo "==> installing PostgreSQL (Debian package 'postgresql')"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "PostgreSQL is missing and this user cannot install it: run 'apt-get install postgresql' as root" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
${SUDO:-} apt-get update -qq
${SUDO:-} apt-get install -y -qq postgresql >/dev/null
# Debian's package starts a system cluster; the tests do not use it.
${SUDO:-} service postgresql stop >/dev/null 2>&1 || true
