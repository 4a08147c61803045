#!/usr/bin/env bash
# Debian's Prometheus for the SLI tests (tests/support/prometheus.ts starts it on a free port with a
# scratch config and data directory). Does nothing when it is already there.
set -euo pipefail
command -v prometheus >/dev/null && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "The SLI tests need Prometheus: install Debian's 'prometheus' package, or put a prometheus binary on PATH." >&2
  exit 1
fi
echo "Installing Debian's prometheus for the SLI tests …" >&2
apt-get update -qq
# Without recommends: the node exporter is not needed, and no service is meant to start.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
