#!/usr/bin/env bash
# Debian's PostgreSQL for `npm run cluster` and its tests (the database under the Temporal server).
# Does nothing when initdb is already there.
set -euo pipefail
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && exit 0
command -v initdb >/dev/null && exit 0
source "$(dirname "$0")/debian-package.sh"
# The package's own cluster (port 5432) is not ours: Interlock runs a server of its own on its own data.
install_debian_package postgresql "the Temporal cluster" \
  "npm run cluster needs PostgreSQL: install Debian's 'postgresql' package, or set INTERLOCK_POSTGRES_BIN to the folder holding initdb and postgres." \
  --no-install-recommends
