#!/usr/bin/env bash
# Benchmark: `retention` against the raw-SQL limit, on identical copies of the demo data, in one run.
#   scripts/bench.sh [--loans N[,N...]] [--repeat R] [--out FILE] [--only KIND[,KIND...]] [--jobs-sweep] [--pin-client CPU]
#     default: --loans 1000000,5000000 --repeat 3 --out bench-results.md
#   --jobs-sweep adds "run delete --jobs J" for J = 1..8 (run-delete-j1 ... run-delete-j8), each against
#   the raw DELETE; --pin-client CPU runs every retention process on that one CPU (taskset), as on a
#   1-vCPU batch machine beside a bigger database server.
# For each scale it loads the demo data once into a template database (no patron consents, no holds;
# the consents the demo drew are set aside), then for each measurement and repeat makes a fresh copy
# (CREATE DATABASE ... TEMPLATE) and times:
#   raw DELETE / run delete         one DELETE with exactly loans-delete's predicate (psql) / retention run
#   raw UPDATE / run anonymize      the same for loan-history (anonymize)
#   raw count / plan                SELECT count(*) with loan-history's predicate / retention plan
#   holds: ...                      all of the above with 1,000 active patron holds and the demo's ~10%
#                                   consenting patrons
#   refs: raw DELETE / run / count / plan   the delete with foreign keys: 5% of loans renew the loan
#                                   before them (indexed, deferred self-reference), fines point to 1%;
#                                   the raw statements keep by hand what a fine points to and every
#                                   renewal chain (either way) with a link that stays
#   attendance: raw DELETE / run    event-attendance on its plain table / run, and run of the same
#   / run partitioned               policy on a copy partitioned by month (whole partitions truncated)
#   / DROP partitions               and, as pg_partman's retention does it, a DROP TABLE of each
#                                   partition wholly past the cutoff, in one transaction (the due rows
#                                   of the month that straddles the cutoff stay); "drop + delete" then
#                                   deletes those, the same outcome as retention's; "count + drop +
#                                   delete" (raw-count-drop-delete) also counts, inside the clock, what
#                                   the dropped partitions held: the least work that yields the figure
#                                   a manifest signs, the baseline issue 31 sets for partitions
#   replica: raw DELETE / run /     the delete with a healthy streaming standby of the bench server
#   run paced                       (scripts/pg.sh standby); "run paced" adds --max-replica-lag 30s,
#                                   compared with the run without it
# Reported: median wall time, rows/s, time ratio to the raw statement and to the same measurement
# without holds and consents, batch times (ledger: 99th percentile and longest), WAL bytes, peak RSS
# of the retention process (/usr/bin/time -v), and the quiet of the machine: the load average before
# the measurements and the CPU other processes used during each (scripts/bench/other-cpu.py); a
# measurement during which they used more than a tenth of a core is marked "busy" and should be rerun.
# Prints a Markdown table and writes it to FILE.
set -euo pipefail
cd "$(dirname "$0")/.."

scales=1000000,5000000 repeat=3 out=bench-results.md only= sweep=false pin=()
while (( $# )); do
  case $1 in
    --loans) scales=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --only) only=,$2,; shift 2 ;;   # measurements by name, e.g. refs:raw-delete-refs,refs:run-delete
    --jobs-sweep) sweep=true; shift ;;
    --pin-client) pin=(taskset -c "$2"); shift 2 ;;
    *) echo "usage: $0 [--loans N[,N...]] [--repeat R] [--out FILE] [--only KIND[,KIND...]] [--jobs-sweep] [--pin-client CPU]" >&2; exit 64 ;;
  esac
done

. scripts/install-deps.sh
swift build -c release >&2
retention=$(swift build -c release --show-bin-path)/retention

work=/tmp/retention-bench-$$
trap 'bash scripts/pg.sh stop "$work/standby" >/dev/null 2>&1 || true; bash scripts/pg.sh stop "$work/pg" >/dev/null 2>&1 || true; rm -rf -- "$work"' EXIT
mkdir -p "$work/policies" "$work/keys" "$work/manifests"
cp policies/loan-history.yaml policies/event-attendance.yaml scripts/bench/*.yaml "$work/policies/"
eval "$(bash scripts/pg.sh start "$work/pg")"
# Sized as a DBA sizes a server for tables this large: with the defaults (max_wal_size 1GB,
# wal_buffers 4MB) it checkpoints every 3 seconds while 20M loans are purged ("checkpoints are
# occurring too frequently" in its log), for the raw statements and retention alike. And durable, as
# a production server is (pg.sh's throwaway servers run with fsync off): with fsync off the server
# also skips its *_flush_after writeback hints, the kernel lets gigabytes of WAL pile up dirty and
# then stalls whoever writes next, which made batches of 60 ms take up to 160 ms (docs/performance.md).
psql -X -q -d postgres -c "ALTER SYSTEM SET max_wal_size = '8GB'" -c "ALTER SYSTEM SET wal_buffers = '16MB'" \
                       -c "ALTER SYSTEM SET fsync = on"
eval "$(bash scripts/pg.sh restart "$work/pg")"
"$retention" keygen --out "$work/keys" >/dev/null
export RETENTION_POLICIES=$work/policies RETENTION_MANIFESTS=$work/manifests
export RETENTION_SIGNING_KEY=$work/keys/retention-signing.pem

# The policies' predicates written by hand, as an independent baseline.
held="EXISTS (SELECT 1 FROM retention.holds h WHERE h.released_at IS NULL AND h.patron = l.patron_id::text)"
loans="l.returned_at < now() - CASE l.library_code WHEN 'BANGOR' THEN interval '14 days'
                                                WHEN 'PORTLAND' THEN interval '90 days'
                                                ELSE interval '30 days' END
  AND NOT (l.fines_owed > 0 OR l.status IN ('lost', 'claims-returned'))
  AND NOT coalesce(l.patron_id IN (SELECT id FROM patrons WHERE keep_history), false)
  AND NOT $held"
attendance="l.attended_at < now() - interval '90 days' AND NOT $held"
# A partition of event_attendance_part (c) wholly past attendance's cutoff, read from its bound.
whole="substring(pg_get_expr(c.relpartbound, c.oid) FROM ' TO \\(''(.*)''\\)\$')::timestamptz <= now() - interval '90 days'"
# With foreign keys (refs:): the loans that must stay because a fine points to them or a link of
# their renewal chain (either way) stays, written by hand.
blocked="WITH RECURSIVE blocked(id) AS (
    SELECT loan_id FROM fines
    UNION SELECT n.id FROM loans l CROSS JOIN LATERAL (
        SELECT l.renewal_of AS id WHERE l.renewal_of IS NOT NULL
        UNION ALL SELECT c.id FROM loans c WHERE c.renewal_of = l.id) n
      WHERE NOT coalesce(($loans), false)
    UNION SELECT n.id FROM blocked b CROSS JOIN LATERAL (
        SELECT x.renewal_of AS id FROM loans x WHERE x.id = b.id AND x.renewal_of IS NOT NULL
        UNION ALL SELECT x.id FROM loans x WHERE x.renewal_of = b.id) n)"

psql_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$1" "${@:2}"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }
wal() { psql -X -Atq -d postgres -c "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"; }

# The template: demo data, the tool's schema, a monthly-partitioned copy of event_attendance, and the
# demo's consents set aside in bench_consent (the plain measurements run without consents).
template() {
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS template_bench" -c "CREATE DATABASE template_bench"
  psql_db template_bench -f sql/reference-schema.sql
  psql_db template_bench -v loans="$1" -f sql/demo-data.sql
  PGDATABASE=template_bench "$retention" setup --quiet
  psql_db template_bench <<'SQL'
CREATE TABLE event_attendance_part (LIKE event_attendance INCLUDING DEFAULTS, PRIMARY KEY (id, attended_at))
    PARTITION BY RANGE (attended_at);
DO $$
DECLARE m timestamptz;
BEGIN
  FOR m IN SELECT generate_series(date_trunc('month', min(attended_at)), date_trunc('month', max(attended_at)),
                                  interval '1 month') FROM event_attendance LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF event_attendance_part FOR VALUES FROM (%L) TO (%L)',
                   'event_attendance_' || to_char(m, 'YYYYMM'), m, m + interval '1 month');
  END LOOP;
END $$;
INSERT INTO event_attendance_part SELECT * FROM event_attendance;
CREATE INDEX ON event_attendance_part (attended_at);
CREATE INDEX ON event_attendance_part (patron_id);
CREATE TABLE bench_consent AS SELECT id FROM patrons WHERE keep_history;
UPDATE patrons SET keep_history = false WHERE keep_history;
SQL
  psql_db template_bench -c "VACUUM ANALYZE"
}

fresh() {  # fresh DB [holds|refs]: a new copy of the template; holds: 1,000 patron holds and the consents back;
           # refs: 5% of loans renew the loan before them (an indexed, deferred self-reference) and a
           # fines table (indexed) points to 1% of loans
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 TEMPLATE template_bench"
  # A fresh copy is another database (another oid), and a manifest folder holds one database's chain.
  rm -f "$work/manifests"/*.manifest.json
  if [[ ${2:-} == refs ]]; then
    psql_db "$1" <<'SQL'
ALTER TABLE loans ADD COLUMN renewal_of bigint REFERENCES loans DEFERRABLE INITIALLY DEFERRED;
UPDATE loans SET renewal_of = id - 1 WHERE id % 20 = 0;
CREATE INDEX ON loans (renewal_of);
CREATE TABLE fines (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, loan_id bigint NOT NULL REFERENCES loans,
                    amount numeric(8,2) NOT NULL);
INSERT INTO fines (loan_id, amount) SELECT id, 1.00 FROM loans WHERE id % 100 = 7;
CREATE INDEX ON fines (loan_id);
VACUUM ANALYZE loans, fines;
SQL
  fi
  if [[ ${2:-} == holds ]]; then
    psql_db "$1" -c "INSERT INTO retention.holds (reference, patron)
                     SELECT 'bench ' || g, (g * 37)::text FROM generate_series(1, 1000) g" \
                 -c "UPDATE patrons SET keep_history = true WHERE id IN (SELECT id FROM bench_consent)" \
                 -c "VACUUM ANALYZE patrons"
  fi
  # Warm, like a nightly table.
  psql_db "$1" -c "CHECKPOINT" -c "SELECT count(*) FROM loans" -c "SELECT count(*) FROM event_attendance" \
               -c "SELECT count(*) FROM event_attendance_part" >/dev/null
  # The copy's files are still being written back by the kernel: let that finish before the clock
  # starts, so no measurement pays for the copy (it slowed file creation, as in TRUNCATE, most).
  sync
}

# The bench's own processes: this shell's and its PostgreSQL server's descendants.
own_roots() { echo $$ "$(head -n 1 "$work/pg/data/postmaster.pid")"; }

# measure KIND DB -> "seconds rows longest_ms wal_bytes rss_kb p99_ms other_cpu_seconds"
measure() {
  local kind=$1 db=$2 start end w0 w1 rows=0 longest=0 rss=0 p99=0 args=()
  case $kind in
    run-delete) args=(run --quiet --only loans-delete) ;;
    run-delete-paced) args=(run --quiet --only loans-delete --max-replica-lag 30s) ;;
    run-anonymize) args=(run --quiet --only loan-history) ;;
    plan) args=(plan --json --only loan-history) ;;
    plan-delete) args=(plan --json --only loans-delete) ;;
    run-attendance) args=(run --quiet --only event-attendance) ;;
    run-attendance-partitioned) args=(run --quiet --only attendance-part) ;;
    run-delete-j*) args=(run --quiet --only loans-delete --jobs "${kind#run-delete-j}") ;;
  esac
  # What the partitions dropped held, counted before the clock starts.
  [[ $kind == raw-drop-partitions* ]] && rows=$(psql_db "$db" -Atc "SELECT count(*) FROM event_attendance_part
      WHERE tableoid IN (SELECT c.oid FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                         WHERE i.inhparent = 'event_attendance_part'::regclass AND $whole)")
  python3 scripts/bench/other-cpu.py snapshot "$work/cpu" $(own_roots)
  w0=$(wal); start=$(now)
  case $kind in
    raw-delete) rows=$(psql_db "$db" -Atc "WITH d AS (DELETE FROM loans l WHERE $loans RETURNING 1) SELECT count(*) FROM d") ;;
    # NOT EXISTS, not NOT IN: the recursive query's row estimate is far too high to hash a NOT IN.
    raw-delete-refs) rows=$(psql_db "$db" -Atc "$blocked, d AS (DELETE FROM loans l WHERE $loans AND NOT EXISTS (SELECT 1 FROM blocked b WHERE b.id = l.id) RETURNING 1) SELECT count(*) FROM d") ;;
    raw-count-refs) rows=$(psql_db "$db" -Atc "$blocked SELECT count(*) FROM loans l WHERE $loans AND NOT EXISTS (SELECT 1 FROM blocked b WHERE b.id = l.id)") ;;
    raw-update) rows=$(psql_db "$db" -Atc "WITH d AS (UPDATE loans l SET patron_id = NULL, notes = NULL WHERE $loans AND l.patron_id IS NOT NULL RETURNING 1) SELECT count(*) FROM d") ;;
    raw-count) rows=$(psql_db "$db" -Atc "SELECT count(*) FROM loans l WHERE $loans AND l.patron_id IS NOT NULL") ;;
    raw-attendance) rows=$(psql_db "$db" -Atc "WITH d AS (DELETE FROM event_attendance l WHERE $attendance RETURNING 1) SELECT count(*) FROM d") ;;
    raw-drop-partitions|raw-drop-partitions-delete) psql_db "$db" -c "DO \$\$ DECLARE p regclass; BEGIN
        FOR p IN SELECT c.oid::regclass FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'event_attendance_part'::regclass AND $whole LOOP
          EXECUTE format('DROP TABLE %s', p);
        END LOOP; END \$\$" >/dev/null
       # The same outcome as retention's: then the due rows the drop left (the month that straddles
       # the cutoff, the default partition).
       [[ $kind == raw-drop-partitions-delete ]] && rows=$((rows + $(psql_db "$db" -Atc "WITH d AS (DELETE FROM event_attendance_part l WHERE $attendance RETURNING 1) SELECT count(*) FROM d"))) ;;
    # The exact outcome with its evidence in one script: count what the whole partitions hold (the
    # figure a manifest needs), drop them, delete the due rows of the one that straddles the cutoff.
    raw-count-drop-delete) rows=$(psql_db "$db" -Atc "SELECT count(*) FROM event_attendance_part
          WHERE tableoid IN (SELECT c.oid FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                             WHERE i.inhparent = 'event_attendance_part'::regclass AND $whole)")
       psql_db "$db" -c "DO \$\$ DECLARE p regclass; BEGIN
        FOR p IN SELECT c.oid::regclass FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'event_attendance_part'::regclass AND $whole LOOP
          EXECUTE format('DROP TABLE %s', p);
        END LOOP; END \$\$" >/dev/null
       rows=$((rows + $(psql_db "$db" -Atc "WITH d AS (DELETE FROM event_attendance_part l WHERE $attendance RETURNING 1) SELECT count(*) FROM d"))) ;;
    *) PGDATABASE=$db /usr/bin/time -v -o "$work/time" "${pin[@]}" "$retention" "${args[@]}" >"$work/out"
       rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time") ;;
  esac
  end=$(now); w1=$(wal)
  local other; other=$(python3 scripts/bench/other-cpu.py since "$work/cpu" $(own_roots))
  if [[ $kind == plan* ]]; then
    rows=$(python3 -c 'import json, sys; print(sum(p["due"] for p in json.load(sys.stdin)["policies"]))' <"$work/out")
  elif [[ $kind == run-* ]]; then
    read -r rows longest p99 < <(psql_db "$db" -Atc "
      SELECT coalesce(sum(rows), 0), coalesce(round(max(ms)), 0),
             coalesce(round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)), 0) FROM (
        SELECT sum(rows) AS rows, extract(epoch FROM max(finished_at) - min(started_at)) * 1000 AS ms
        FROM retention.batches GROUP BY run_id, policy, batch) b" | tr '|' ' ')
  fi
  echo "$(echo "$end - $start" | bc) $rows $longest $((w1 - w0)) $rss $p99 $other"
}

{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPUs, load average before: $(cut -d' ' -f1-3 /proc/loadavg)" \
       "${pin[*]:+(retention pinned: ${pin[*]})}"
  echo
  echo "| loans | measurement | median s | rows | rows/s | time ratio to raw | ratio to plain data | batch ms: 99% / longest | WAL MB | peak RSS MiB | others' CPU |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
} >"$out"

IFS=, read -r -a scale_list <<<"$scales"
for scale in "${scale_list[@]}"; do
  echo "bench: loading $scale loans" >&2
  template "$scale"
  declare -A seconds=()
  for kind in raw-delete run-delete raw-update run-anonymize raw-count plan \
              holds:raw-delete holds:run-delete holds:raw-update holds:run-anonymize holds:raw-count holds:plan \
              refs:raw-delete-refs refs:run-delete refs:raw-count-refs refs:plan-delete \
              raw-attendance run-attendance raw-drop-partitions raw-drop-partitions-delete raw-count-drop-delete \
              run-attendance-partitioned \
              replica:raw-delete replica:run-delete replica:run-delete-paced \
              $($sweep && echo run-delete-j{1..8}); do
    [[ -n $only && $only != *",$kind,"* ]] && continue
    results=()
    # A variant (holds:, refs:) runs on its own copy of the data and is compared with the plain run.
    name=${kind#*:}; variant=; [[ $kind == *:* ]] && variant=${kind%%:*}
    # The replica: measurements come last; their standby streams from the first of them on, so it
    # takes no CPU from the others.
    if [[ $variant == replica && ! -d $work/standby ]]; then
      bash scripts/pg.sh standby "$work/standby" "$work/pg" >/dev/null
    fi
    for ((i = 1; i <= repeat; i++)); do
      fresh bench "$variant"
      results+=("$(measure "$name" bench)")
      echo "bench: $scale $kind #$i: ${results[-1]}" >&2
    done
    column() { printf '%s\n' "${results[@]}" | awk -v c="$1" '{ print $c }' | median; }
    s=$(column 1) rows=$(column 2) longest=$(column 3) p99=$(column 6)
    walmb=$(printf '%s\n' "${results[@]}" | awk '{ print $4 / 1048576 }' | median)
    rss=$(printf '%s\n' "${results[@]}" | awk '{ print $5 / 1024 }' | median)
    seconds[$kind]=$s
    raw=
    case $name in
      run-delete|run-delete-paced|run-delete-j*) raw=${seconds[${variant:+$variant:}raw-delete]:-${seconds[refs:raw-delete-refs]:-}} ;;
      run-anonymize) raw=${seconds[${variant:+$variant:}raw-update]:-} ;;
      plan) raw=${seconds[${variant:+$variant:}raw-count]:-} ;;
      plan-delete) raw=${seconds[refs:raw-count-refs]:-} ;;
      run-attendance) raw=${seconds[raw-attendance]:-} ;;
      run-attendance-partitioned) raw=${seconds[raw-drop-partitions]:-} ;;
    esac
    ratio=-; [[ -n ${raw:-} ]] && ratio=$(echo "scale=2; $s / $raw" | bc)
    base=-
    plain=
    case $kind in
      holds:*) plain=${seconds[$name]:-} ;;
      refs:run-delete) plain=${seconds[run-delete]:-} ;;
      refs:raw-delete-refs) plain=${seconds[raw-delete]:-} ;;
      replica:raw-delete) plain=${seconds[raw-delete]:-} ;;
      replica:run-delete) plain=${seconds[run-delete]:-} ;;
      replica:run-delete-paced) plain=${seconds[replica:run-delete]:-} ;;
    esac
    [[ -n $plain ]] && base=$(echo "scale=2; $s / $plain" | bc)
    # Also over the drop followed by a DELETE of what it left: the same rows gone as retention's run.
    [[ $kind == run-attendance-partitioned && -n ${seconds[raw-drop-partitions-delete]:-} && $ratio != - ]] &&
      ratio="$ratio ($(echo "scale=2; $s / ${seconds[raw-drop-partitions-delete]}" | bc) to drop + delete)"
    if [[ $kind == run-attendance-partitioned && -n ${seconds[raw-count-drop-delete]:-} ]]; then
      exact="$(echo "scale=2; $s / ${seconds[raw-count-drop-delete]}" | bc) to count + drop + delete"
      [[ $ratio == - ]] && ratio=$exact || ratio="$ratio ($exact)"
    fi
    [[ $kind == run-attendance-partitioned && -n ${seconds[run-attendance]:-} ]] &&
      base="$(echo "scale=2; $s / ${seconds[run-attendance]}" | bc) (to run unpartitioned)"
    tool=; [[ $name == run-* || $name == plan* ]] && tool=1
    # The worst repeat: one busy repeat makes the median doubtful.
    busy=$(printf '%s\n' "${results[@]}" | awk '{ share = $7 / $1; if (share > worst) worst = share }
      END { printf (worst > 0.1 ? "busy: %.0f%% of a core" : "quiet (%.0f%%)"), worst * 100 }')
    printf '| %s | %s | %.2f | %s | %s | %s | %s | %s | %.0f | %s | %s |\n' "$scale" "$kind" "$s" "$rows" \
      "$(echo "$rows / $s" | bc)" "$ratio" "$base" "$( [[ $name == run-* ]] && echo "$p99 / $longest" || echo -)" "$walmb" \
      "$( [[ -n $tool ]] && printf '%.0f' "$rss" || echo -)" "$busy" >>"$out"
  done
  unset seconds
  bash scripts/pg.sh stop "$work/standby" >/dev/null 2>&1 || true
done
cat "$out"
