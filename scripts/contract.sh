#!/usr/bin/env bash
# The OpenAPI contract, checked from outside: schemathesis (pinned, from PyPI) against a running
# `npm start` on ports of its own, with a deployment waiting at a manual step so views have
# interruptions. A bounded number of examples, two seeds: the fixed one with every phase, then the
# day's (its UTC date) with the phases a seed changes (fuzzing, stateful), so each day tries cases
# no earlier run tried. Each run prints its seed; `CONTRACT_SEEDS="<seed> …" scripts/contract.sh`
# reruns exactly those, every phase. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
target=".temporal/schemathesis-$VERSION"
if [[ ! -x "$target/bin/st" ]]; then
  echo "Installing schemathesis $VERSION into $target …"
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --target "$target" "schemathesis==$VERSION"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
data="$(mktemp -d)"
port="$(free_port)"
log="$data/npm-start.log"
# Schemathesis sends as one person, several starts a second: under the per-person rates (tested in
# tests/api) it would meet mostly 429s, and leave what is behind them untested.
PORT="$port" TEMPORAL_DEV_PORT="$(free_port)" TEMPORAL_UI_PORT="$(free_port)" INTERLOCK_DATA_DIR="$data" \
  INTERLOCK_WORKER_METRICS_PORT=0 HOST=127.0.0.1 INTERLOCK_TRIGGER_RATE=1000000 INTERLOCK_ACTION_RATE=1000000 \
  node --import tsx start.ts >"$log" 2>&1 &
server=$!
cleanup() {
  kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

base="http://127.0.0.1:$port"
for _ in $(seq 1 120); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "$base/readyz" >/dev/null || { echo "npm start did not become ready:"; cat "$log"; exit 1; }

# A deployment that waits at a manual step (its ids are handed to the interruption routes), and one
# that finishes, so every view shape is seen.
trigger() {
  curl -fsS -X POST "$base/api/deployments" -H 'Authorization: Bearer ci-demo-token' -H 'Content-Type: application/json' -d "$1"
}
json() { python3 -c "import json,sys; print(eval(sys.argv[1], {'d': json.load(sys.stdin)}))" "$1"; }
export CONTRACT_DEPLOYMENT_ID CONTRACT_INTERRUPTION_ID
CONTRACT_DEPLOYMENT_ID="$(trigger '{"project":"hello-service","environment":"production","release":"1.0.0"}' | json "d['id']")"
trigger '{"project":"hello-service","environment":"qa","release":"1.0.1"}' >/dev/null
for _ in $(seq 1 60); do
  CONTRACT_INTERRUPTION_ID="$(curl -fsS "$base/api/deployments/$CONTRACT_DEPLOYMENT_ID" -H 'Authorization: Bearer ci-demo-token' \
    | json "(d['interruptions'] or [{'id': ''}])[0]['id']")"
  [[ -n "$CONTRACT_INTERRUPTION_ID" ]] && break
  sleep 0.5
done
[[ -n "$CONTRACT_INTERRUPTION_ID" ]] || { echo "The contract's deployment never reached its manual step:"; cat "$log"; exit 1; }
# A release of the example's lifecycle project, for the release routes to read.
export CONTRACT_RELEASE_ID
CONTRACT_RELEASE_ID="$(curl -fsS -X POST "$base/api/releases" -H 'Authorization: Bearer ci-demo-token' -H 'Content-Type: application/json' \
  -d '{"project":"podtatohead","release":"0.1.1"}' | json "d['id']")"

fixed=20261122
if [[ -n "${CONTRACT_SEEDS:-}" ]]; then
  runs=()
  for seed in $CONTRACT_SEEDS; do runs+=("$seed:examples,coverage,fuzzing,stateful"); done
else
  runs=("$fixed:examples,coverage,fuzzing,stateful" "$(date -u +%Y%m%d):fuzzing,stateful")
fi
status=0
for run in "${runs[@]}"; do
  seed="${run%%:*}" phases="${run#*:}"
  echo "== schemathesis, seed $seed ($phases); rerun it with: CONTRACT_SEEDS=$seed scripts/contract.sh"
  PYTHONPATH="$target" python3 "$target/bin/st" --config-file tests/contract/schemathesis.toml run "$base/openapi.json" \
    --checks all \
    --phases "$phases" \
    --max-examples "${CONTRACT_EXAMPLES:-20}" \
    --seed "$seed" \
    --workers 1 \
    --request-timeout 20 \
    --generation-database none \
    --suppress-health-check all \
    --no-color \
    -H 'Authorization: Bearer admin-demo-token' || { status=1; echo "== seed $seed FAILED; rerun it with: CONTRACT_SEEDS=$seed scripts/contract.sh"; }
done
exit "$status"
