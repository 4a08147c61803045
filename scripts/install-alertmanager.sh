#!/usr/bin/env bash
# Debian's Alertmanager for the external-check tests (tests/support/alertmanager.ts starts it on a
# free port with a scratch config and data directory). Does nothing when it is already there.
set -euo pipefail
command -v prometheus-alertmanager >/dev/null && exit 0
source "$(dirname "$0")/debian-package.sh"
install_debian_package prometheus-alertmanager "the external-check tests" \
  "The external-check tests need Alertmanager: install Debian's 'prometheus-alertmanager' package, or put prometheus-alertmanager on PATH." \
  --no-install-recommends
