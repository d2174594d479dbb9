#!/usr/bin/env bash
# Benchmark: retention against Evergreen's own purge functions, on two identical copies of an
# Evergreen database, in one run.
#   scripts/bench-evergreen.sh [--circs N] [--holds M] [--patrons P] [--repeat R] [--first-purge F] [--out FILE]
#     default: --circs 100000 --holds 30000 --patrons 10000 --repeat 3 --first-purge 1 --out bench-evergreen.md
# It loads Evergreen's schema (the pinned copy in Tests/Fixtures/evergreen, scripts/evergreen.sh),
# sets its retention flags and writes the data through Evergreen's own tables into a template
# database once; then, per repeat, two fresh copies: on one it times
#   evergreen   SELECT action.purge_circulations(); SELECT action.purge_holds();   (psql)
# and on two others
#   retention        retention run --policies policies/evergreen   (after setup and the consent view)
#   retention 5000   the same with --batch-size 5000 (a fixed size fit for these tables, to show
#                    what the default sizing leaves)
#   raw DELETE       one DELETE per table of exactly the rows Evergreen's purge removed (its
#                    triggers fire as in a purge): the floor any purge of these rows pays
# and checks that the same circulations, aged circulations, holds and aged holds stay.
# Then, F times, the first purge of a site that never purged: Evergreen's archive tables
# (action.aged_circulation, aged_hold_request) analyzed while still empty, as after a migration's
# ANALYZE. The plans Evergreen's aging triggers cache then scan the growing archive for every row;
# a purge in one transaction (Evergreen's) keeps them all night, a batched one commits and lets
# autovacuum analyze the archive. This is how the issue measured Evergreen (474-549 s). Reported:
# median wall time of each, the ratio evergreen / each (how many times faster it is), and the
# machine's load average at the start (benchmarks mean something only on a quiet machine).
set -euo pipefail
cd "$(dirname "$0")/.."

circs=100000 holds=30000 patrons=10000 repeat=3 first=1 out=bench-evergreen.md
while (( $# )); do
  case $1 in
    --circs) circs=$2; shift 2 ;;
    --holds) holds=$2; shift 2 ;;
    --patrons) patrons=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --first-purge) first=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--circs N] [--holds M] [--patrons P] [--repeat R] [--first-purge F] [--out FILE]" >&2; exit 64 ;;
  esac
done

. scripts/install-deps.sh
swift build -c release >&2
retention=$(swift build -c release --show-bin-path)/retention

work=/tmp/retention-bench-evergreen-$$
trap 'bash scripts/pg.sh stop "$work/pg" >/dev/null 2>&1 || true; rm -rf -- "$work"' EXIT
mkdir -p "$work/keys"
eval "$(bash scripts/pg.sh start "$work/pg")"
"$retention" keygen --out "$work/keys" >/dev/null
export RETENTION_SIGNING_KEY=$work/keys/retention-signing.pem RETENTION_CONFIG=/dev/null
load=$(cut -d' ' -f1-3 /proc/loadavg)

echo "bench-evergreen: building the template ($circs circulations, $holds holds)" >&2
bash scripts/evergreen.sh load eg_template >&2
bash scripts/evergreen.sh flags eg_template >&2
bash scripts/evergreen.sh data eg_template --circs "$circs" --holds "$holds" --patrons "$patrons" >&2

now() { date +%s.%N; }
ids() { psql -X -At -d "$1" -c "SELECT md5(coalesce(string_agg(id::text, ',' ORDER BY id), '')) FROM $2"; }
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# retention on database $1 with extra run options $2...; prints the seconds it took.
run_retention() {
  local db=$1 t0; shift
  rm -rf "$work/manifests" && mkdir -p "$work/manifests"
  # The tool's schema, the consent view and a manifest folder are set up outside the timing.
  RETENTION_MANIFESTS=$work/manifests PGDATABASE=$db "$retention" setup --quiet
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f policies/evergreen/hold-history-choices.sql
  t0=$(now)
  RETENTION_MANIFESTS=$work/manifests PGDATABASE=$db "$retention" run --policies policies/evergreen --quiet "$@"
  echo "$(now) - $t0" | bc
}

# Whether database $1 kept the same rows as Evergreen's purge on $2 (default eg_theirs).
same_rows() {
  local table reference=${2:-eg_theirs}
  for table in action.circulation action.aged_circulation action.hold_request action.aged_hold_request; do
    if [[ $(ids "$reference" "$table") != $(ids "$1" "$table") ]]; then
      echo "bench-evergreen: $table differs between Evergreen's purge on $reference and $1" >&2
      exit 1
    fi
  done
}

theirs=() mine=() big=() raw=()
for r in $(seq 1 "$repeat"); do
  for db in eg_theirs eg_mine eg_big eg_raw; do bash scripts/evergreen.sh clone eg_template "$db" >&2; done
  t0=$(now)
  bash scripts/evergreen.sh purge eg_theirs >&2
  theirs+=("$(echo "$(now) - $t0" | bc)")
  mine+=("$(run_retention eg_mine)")
  same_rows eg_mine
  big+=("$(run_retention eg_big --batch-size 5000)")
  same_rows eg_big
  # The raw floor: the rows Evergreen's purge removed, in one DELETE per table (untimed: the lists).
  for table in circulation hold_request; do
    psql -X -q -d eg_raw -c "CREATE TABLE public.keep_$table (id bigint PRIMARY KEY)"
    psql -X -At -d eg_theirs -c "SELECT id FROM action.$table" | psql -X -q -d eg_raw -c "\\copy public.keep_$table FROM PSTDIN"
  done
  t0=$(now)
  psql -X -q -v ON_ERROR_STOP=1 -d eg_raw \
    -c "DELETE FROM action.circulation c WHERE NOT EXISTS (SELECT 1 FROM public.keep_circulation k WHERE k.id = c.id)" \
    -c "DELETE FROM action.hold_request h WHERE NOT EXISTS (SELECT 1 FROM public.keep_hold_request k WHERE k.id = h.id)"
  raw+=("$(echo "$(now) - $t0" | bc)")
  same_rows eg_raw
  echo "bench-evergreen: repeat $r: evergreen ${theirs[-1]} s, retention ${mine[-1]} s, --batch-size 5000 ${big[-1]} s," \
       "raw ${raw[-1]} s, same rows left" >&2
done

# The first purge: the archive tables analyzed while empty (see the top).
bash scripts/evergreen.sh clone eg_template eg_first_template >&2
psql -X -q -d eg_first_template -c "ANALYZE action.aged_circulation, action.aged_hold_request"
first_theirs=() first_mine=()
for r in $(seq 1 "$first"); do
  for db in eg_first_theirs eg_first_mine; do bash scripts/evergreen.sh clone eg_first_template "$db" >&2; done
  t0=$(now)
  bash scripts/evergreen.sh purge eg_first_theirs >&2
  first_theirs+=("$(echo "$(now) - $t0" | bc)")
  first_mine+=("$(run_retention eg_first_mine)")
  same_rows eg_first_mine eg_first_theirs
  echo "bench-evergreen: first purge $r: evergreen ${first_theirs[-1]} s, retention ${first_mine[-1]} s, same rows left" >&2
done

t=$(printf '%s\n' "${theirs[@]}" | median)
row() {  # label, then the runs
  local label=$1 m; shift
  m=$(printf '%s\n' "$@" | median)
  echo "| $label | $m | $* | $(echo "scale=2; $t / $m" | bc) |"
}
{
  echo "# Evergreen's purge against retention ($(date -u +%Y-%m-%d), load average at start $load)"
  echo
  echo "$circs circulations, $holds holds, $patrons patrons; medians of $repeat; the same rows left in all four tables."
  echo
  echo "| measurement | median s | runs | times faster than Evergreen |"
  echo "|---|---|---|---|"
  echo "| Evergreen: purge_circulations() + purge_holds() | $t | ${theirs[*]} | 1.00 |"
  row "retention run --policies policies/evergreen" "${mine[@]}"
  row "retention run ... --batch-size 5000" "${big[@]}"
  row "raw DELETE of the same rows (Evergreen's triggers fire)" "${raw[@]}"
  if (( first > 0 )); then
    echo
    echo "A site's first purge: Evergreen's archive tables analyzed while empty (medians of $first)."
    echo
    echo "| measurement | median s | runs | times faster than Evergreen |"
    echo "|---|---|---|---|"
    t=$(printf '%s\n' "${first_theirs[@]}" | median)
    echo "| Evergreen: purge_circulations() + purge_holds() | $t | ${first_theirs[*]} | 1.00 |"
    row "retention run --policies policies/evergreen" "${first_mine[@]}"
  fi
} | tee "$out"
