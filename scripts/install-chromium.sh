#!/usr/bin/env bash
# Debian's Chromium for the browser tests (playwright-core drives it; browsers are never downloaded
# by a test tool). Does nothing when it is already there.
set -euo pipefail
command -v chromium >/dev/null && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "The browser tests need Chromium: install Debian's 'chromium' package, or set CHROMIUM_PATH." >&2
  exit 1
fi
echo "Installing Debian's chromium for the browser tests …" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
