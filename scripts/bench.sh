#!/usr/bin/env bash
# Benchmark: `retention` against the raw-SQL limit, on identical copies of the demo data, in one run.
#   scripts/bench.sh [--loans N[,N...]] [--repeat R] [--out FILE]
#     default: --loans 1000000 --repeat 3 --out bench-results.md
# For each scale it loads the demo data once into a template database, then for each measurement
# and repeat makes a fresh copy (CREATE DATABASE ... TEMPLATE) and times:
#   raw DELETE      one DELETE with exactly loans-delete's predicate (psql)
#   run delete      retention run --only loans-delete (same predicate, batches + ledger + manifest)
#   raw UPDATE      one UPDATE with exactly loan-history's predicate
#   run anonymize   retention run --only loan-history
#   raw count       SELECT count(*) with loan-history's predicate
#   plan            retention plan --only loan-history
#   ... and the two runs again with 1,000 active patron holds (the demo has ~10% consenting patrons).
# Reported: median wall time, rows/s, ratio to the raw statement, longest batch (ledger), WAL bytes,
# peak RSS of the retention process (/usr/bin/time -v). Prints a Markdown table and writes it to FILE.
set -euo pipefail
cd "$(dirname "$0")/.."

scales=1000000 repeat=3 out=bench-results.md
while (( $# )); do
  case $1 in
    --loans) scales=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--loans N[,N...]] [--repeat R] [--out FILE]" >&2; exit 64 ;;
  esac
done

. scripts/install-deps.sh
swift build -c release >&2
retention=$(swift build -c release --show-bin-path)/retention

work=/tmp/retention-bench-$$
trap 'bash scripts/pg.sh stop "$work/pg" >/dev/null 2>&1 || true; rm -rf -- "$work"' EXIT
mkdir -p "$work/policies" "$work/keys" "$work/manifests"
cp policies/loan-history.yaml scripts/bench/loans-delete.yaml "$work/policies/"
eval "$(bash scripts/pg.sh start "$work/pg")"
"$retention" keygen --out "$work/keys" >/dev/null
export RETENTION_POLICIES=$work/policies RETENTION_MANIFESTS=$work/manifests
export RETENTION_SIGNING_KEY=$work/keys/retention-signing.pem

# The policies' predicate written by hand, as an independent baseline.
predicate="l.returned_at < now() - CASE l.library_code WHEN 'BANGOR' THEN interval '14 days'
                                                   WHEN 'PORTLAND' THEN interval '90 days'
                                                   ELSE interval '30 days' END
  AND NOT (l.fines_owed > 0 OR l.status IN ('lost', 'claims-returned'))
  AND NOT coalesce(l.patron_id IN (SELECT id FROM patrons WHERE keep_history), false)
  AND NOT EXISTS (SELECT 1 FROM retention.holds h WHERE h.released_at IS NULL AND h.patron = l.patron_id::text)"

psql_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$1" "${@:2}"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }
wal() { psql -X -Atq -d postgres -c "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"; }

fresh() {  # fresh DB [HOLDS]: a new copy of the template, optionally with 1,000 patron holds
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 TEMPLATE template_bench"
  if [[ ${2:-} == holds ]]; then
    psql_db "$1" -c "INSERT INTO retention.holds (reference, patron)
                     SELECT 'bench ' || g, (g * 37)::text FROM generate_series(1, 1000) g"
  fi
  psql_db "$1" -c "CHECKPOINT" -c "SELECT count(*) FROM loans" >/dev/null   # warm, like a nightly table
}

# measure KIND DB -> "seconds rows longest_ms wal_bytes rss_kb"
measure() {
  local kind=$1 db=$2 start end w0 w1 rows=0 longest=0 rss=0
  w0=$(wal); start=$(now)
  case $kind in
    raw-delete) rows=$(psql_db "$db" -Atc "WITH d AS (DELETE FROM loans l WHERE $predicate RETURNING 1) SELECT count(*) FROM d") ;;
    raw-update) rows=$(psql_db "$db" -Atc "WITH d AS (UPDATE loans l SET patron_id = NULL, notes = NULL WHERE $predicate AND l.patron_id IS NOT NULL RETURNING 1) SELECT count(*) FROM d") ;;
    raw-count) rows=$(psql_db "$db" -Atc "SELECT count(*) FROM loans l WHERE $predicate AND l.patron_id IS NOT NULL") ;;
    run-*|plan)
      local args=(run --quiet --only "${kind#run-}")
      [[ $kind == run-delete ]] && args=(run --quiet --only loans-delete)
      [[ $kind == run-anonymize ]] && args=(run --quiet --only loan-history)
      [[ $kind == plan ]] && args=(plan --json --only loan-history)
      PGDATABASE=$db /usr/bin/time -v -o "$work/time" "$retention" "${args[@]}" >"$work/out"
      rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time")
      if [[ $kind == plan ]]; then
        rows=$(grep -o '"due" : [0-9]*' "$work/out" | awk '{ s += $3 } END { print s + 0 }')
      else
        read -r rows longest < <(psql_db "$db" -Atc "
          SELECT coalesce(sum(rows), 0), coalesce(round(max(ms)), 0) FROM (
            SELECT sum(rows) AS rows, extract(epoch FROM max(finished_at) - min(started_at)) * 1000 AS ms
            FROM retention.batches GROUP BY run_id, policy, batch) b" | tr '|' ' ')
      fi ;;
  esac
  end=$(now); w1=$(wal)
  echo "$(echo "$end - $start" | bc) $rows $longest $((w1 - w0)) $rss"
}

{
  echo "| loans | measurement | median s | rows | rows/s | time ratio to raw | longest batch ms | WAL MB | peak RSS MiB |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
} >"$out"

IFS=, read -r -a scale_list <<<"$scales"
for loans in "${scale_list[@]}"; do
  echo "bench: loading $loans loans" >&2
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS template_bench" -c "CREATE DATABASE template_bench"
  psql_db template_bench -f sql/reference-schema.sql
  psql_db template_bench -v loans="$loans" -f sql/demo-data.sql
  PGDATABASE=template_bench "$retention" setup --quiet
  declare -A seconds=()
  for kind in raw-delete run-delete raw-update run-anonymize raw-count plan holds:raw-delete holds:run-delete holds:run-anonymize; do
    results=()
    for ((i = 1; i <= repeat; i++)); do
      holds=; name=${kind#holds:}; [[ $kind == holds:* ]] && holds=holds
      fresh bench "$holds"
      results+=("$(measure "$name" bench)")
      echo "bench: $loans $kind #$i: ${results[-1]}" >&2
    done
    s=$(printf '%s\n' "${results[@]}" | awk '{ print $1 }' | median)
    rows=$(printf '%s\n' "${results[@]}" | awk '{ print $2 }' | median)
    longest=$(printf '%s\n' "${results[@]}" | awk '{ print $3 }' | median)
    walmb=$(printf '%s\n' "${results[@]}" | awk '{ print $4 / 1048576 }' | median)
    rss=$(printf '%s\n' "${results[@]}" | awk '{ print $5 / 1024 }' | median)
    seconds[$kind]=$s
    raw=
    case $kind in
      run-delete) raw=${seconds[raw-delete]} ;;
      run-anonymize) raw=${seconds[raw-update]} ;;
      plan) raw=${seconds[raw-count]} ;;
      holds:run-delete) raw=${seconds[holds:raw-delete]} ;;
      holds:run-anonymize) raw=${seconds[run-anonymize]} ;;   # holds cost: same run without holds
    esac
    ratio=-; [[ -n $raw ]] && ratio=$(echo "scale=2; $s / $raw" | bc)
    rate=$(echo "$rows / $s" | bc)
    printf '| %s | %s | %.2f | %s | %s | %s | %s | %.0f | %s |\n' "$loans" "$kind" "$s" "$rows" "$rate" "$ratio" \
      "$( [[ $kind == run-* || $kind == holds:run-* ]] && echo "$longest" || echo -)" "$walmb" \
      "$( [[ $kind == run-* || $kind == holds:run-* || $kind == plan ]] && printf '%.0f' "$rss" || echo -)" >>"$out"
  done
  unset seconds
done
cat "$out"
