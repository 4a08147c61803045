#!/usr/bin/env bash
# Debian's Prometheus for the SLI tests (tests/support/prometheus.ts starts it on a free port with a
# scratch config and data directory). Does nothing when it is already there.
set -euo pipefail
command -v prometheus >/dev/null && exit 0
source "$(dirname "$0")/debian-package.sh"
# Without recommends: the node exporter is not needed, and no service is meant to start.
install_debian_package prometheus "the SLI tests" \
  "The SLI tests need Prometheus: install Debian's 'prometheus' package, or put a prometheus binary on PATH." \
  --no-install-recommends
