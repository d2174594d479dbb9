#!/usr/bin/env bash
# Measures `retention run` at several batch sizes on identical copies of the demo data, to check
# the default batch sizing: total time, longest batch transaction (from the ledger), batches.
#   scripts/batch-size.sh [--loans N] [SIZE...]      default: 1000000 loans; auto 2000 5000 10000 20000 50000
# `auto` is the default: no --batch-size, each session sizes its batches to take about 100 ms.
set -euo pipefail
cd "$(dirname "$0")/.."

loans=1000000
if [[ ${1:-} == --loans ]]; then loans=$2; shift 2; fi
sizes=("$@")
(( ${#sizes[@]} )) || sizes=(auto 2000 5000 10000 20000 50000)

. scripts/install-deps.sh
swift build -c release >&2
retention=$(swift build -c release --show-bin-path)/retention

work=/tmp/retention-batch-$$
trap 'bash scripts/pg.sh stop "$work/pg" >/dev/null 2>&1; rm -rf -- "$work"' EXIT
mkdir -p "$work"
eval "$(bash scripts/pg.sh start "$work/pg")"
psql -q -c 'CREATE DATABASE template_demo'
PGDATABASE=template_demo psql -q -v ON_ERROR_STOP=1 -f sql/reference-schema.sql
PGDATABASE=template_demo psql -q -v ON_ERROR_STOP=1 -v loans="$loans" -f sql/demo-data.sql
PGDATABASE=template_demo "$retention" setup --quiet
mkdir -p "$work/keys" "$work/manifests"
"$retention" keygen --out "$work/keys" >/dev/null
export RETENTION_SIGNING_KEY=$work/keys/retention-signing.pem RETENTION_MANIFESTS=$work/manifests

echo "| batch size | run seconds | batches | longest batch ms | median batch ms |"
echo "|---:|---:|---:|---:|---:|"
for size in "${sizes[@]}"; do
  psql -q -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench TEMPLATE template_demo"
  # A fresh copy is another database (another oid), and a manifest folder holds one database's chain.
  rm -f "$work/manifests"/*.manifest.json
  start=$(date +%s.%N)
  args=(); [[ $size == auto ]] || args=(--batch-size "$size")
  PGDATABASE=bench "$retention" run --quiet "${args[@]}"
  end=$(date +%s.%N)
  stats=$(PGDATABASE=bench psql -Atq -F ' ' -c "
    SELECT count(*), round(max(ms)), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))
    FROM (SELECT run_id, policy, batch, extract(epoch FROM max(finished_at) - min(started_at)) * 1000 AS ms
          FROM retention.batches GROUP BY 1, 2, 3) b")
  read -r batches longest median <<<"$stats"
  printf '| %s | %.1f | %s | %s | %s |\n' "$size" "$(echo "$end - $start" | bc)" "$batches" "$longest" "$median"
done
