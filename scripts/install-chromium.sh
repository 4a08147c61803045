#!/usr/bin/env bash
# Debian's Chromium for the browser tests (playwright-core drives it; browsers are never downloaded
# by a test tool). Does nothing when it is already there.
set -euo pipefail
command -v chromium >/dev/null && exit 0
source "$(dirname "$0")/debian-package.sh"
install_debian_package chromium "the browser tests" \
  "The browser tests need Chromium: install Debian's 'chromium' package, or set CHROMIUM_PATH."
