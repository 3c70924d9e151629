#!/usr/bin/env bash
# Debian's Chromium for the browser tests (driven by Playwright for Python through executable_path;
# Playwright's own browser download is never used).
set -euo pipefail
if command -v chromium >/dev/null; then
  exit 0
fi
echo "==> installing Chromium (Debian package 'chromium')"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
