#!/usr/bin/env bash
# Installs the Debian packages opentsm's tests use: pcscd + vpcd (a simulated card visible to every
# PC/SC program), opensc (opensc-tool, the independent peer in the end-to-end test), the PC/SC headers,
# a C compiler for the small PC/SC bridge, PostgreSQL, and Chromium for the browser tests (driven by
# playwright-core; never a browser download). Idempotent: does nothing when everything is present.
set -euo pipefail
pkgs=(pcscd vsmartcard-vpcd opensc pcsc-tools libpcsclite-dev gcc libc6-dev postgresql chromium fonts-dejavu-core)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
