#!/usr/bin/env bash
# What the monthly report's PDF needs from Debian: fonts that cover Chinese (Noto CJK), Pango for
# WeasyPrint's text layout, and poppler-utils (pdftotext, pdftoppm) for the tests that read the PDF.
# Idempotent: installs nothing when every package is already there.
set -euo pipefail
packages=(fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 poppler-utils)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
echo "==> installing ${missing[*]} (Debian)"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
