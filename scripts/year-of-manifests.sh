#!/usr/bin/env bash
# Makes a year of real nightly manifests, for the report's tests and its benchmark:
#   scripts/year-of-manifests.sh OUT [--nights N] [--retention BIN] [--stop]
# A throwaway PostgreSQL runs under libfaketime (Debian package `faketime`) with its clock set to
# 02:15 UTC of each night in turn, from 2026-01-01; each night `retention run` purges the rows that
# became due. Some nights are special (their dates are printed as `special NAME DATE`):
#   night 40  failed     another session holds the table past the run's lock timeout (the run gives up before
#                        its first batch and records the failed night, exit 1)
#   night 100 missing    no run at all
#   night 150 recovered  the run is killed (SIGKILL) after three batches; night 151's run writes
#                        its `recovered` manifest before its own
#   night 200 version    the policy file becomes version 2, with hostile text in its description and
#                        its period shortened from 30 to 25 days
#   night 300 stopped    30,000 visits 100 days old come back (restored from a backup); the run stops
#                        at its row cap (--max-rows 5000) and night 301's run purges the rest
#   night 60  hold       a patron hold (the patron 900007) with hostile text in reference and reason
#   night 120 hold       a library hold (NORTH), released on night 250
# With fewer nights, the special nights past the end do not happen.
# Leaves OUT/manifests, OUT/keys, OUT/policies and the server (its PG* variables in OUT/pg.env)
# running, unless --stop; stop it with scripts/pg.sh stop OUT/pg.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

out=${1:?usage: $0 OUT [--nights N] [--retention BIN] [--stop]}
shift
nights=365 retention="" stop=false
while (( $# )); do
  case $1 in
    --nights) nights=${2:?}; shift 2 ;;
    --retention) retention=${2:?}; shift 2 ;;
    --stop) stop=true; shift ;;
    *) echo "year-of-manifests.sh: unknown option $1" >&2; exit 64 ;;
  esac
done
[[ -n $retention ]] || retention=$here/../.build/debug/retention
faketime_lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
[[ -n $faketime_lib ]] || { echo "year-of-manifests.sh: needs libfaketime (apt-get install faketime)" >&2; exit 69; }

mkdir -p "$out/manifests" "$out/keys" "$out/policies"
out=$(cd "$out" && pwd)
clock=$out/clock
echo "@2026-01-01 02:15:00" >"$clock"
chmod 0644 "$clock"
chmod o+rx "$out"

# The server's processes read the clock file on every call (FAKETIME_NO_CACHE).
LD_PRELOAD=$faketime_lib FAKETIME_TIMESTAMP_FILE=$clock FAKETIME_NO_CACHE=1 \
  bash "$here/pg.sh" start "$out/pg" >"$out/pg.env" 2>"$out/pg.log" || { cat "$out/pg.log" >&2; exit 1; }
. "$out/pg.env"
export PGDATABASE=postgres
$stop && trap 'bash "$here/pg.sh" stop "$out/pg" >/dev/null 2>&1' EXIT

# The server's clock is a year away from this machine's on purpose: the run's comparison of the two
# clocks is off here (its check against the previous run's end stays).
export RETENTION_MAX_CLOCK_SKEW=off
export RETENTION_CONFIG=/dev/null RETENTION_POLICIES=$out/policies RETENTION_MANIFESTS=$out/manifests
export RETENTION_SIGNING_KEY=$out/keys/retention-signing.pem RETENTION_PUBLIC_KEY=$out/keys/retention-public.pem
"$retention" keygen --out "$out/keys" >/dev/null
"$retention" setup --log-format text 2>/dev/null

# 24 visits a day from 2025-12-02 to past the last night, each with a patron and a branch.
psql -q -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE public.visits (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seen timestamptz NOT NULL,
    patron_id int NOT NULL,
    branch text NOT NULL,
    name text NOT NULL
);
INSERT INTO public.visits (seen, patron_id, branch, name)
SELECT timestamptz '2025-12-02 10:00:00+00' + (g / 24) * interval '1 day' + (g % 24) * interval '20 minutes',
       900000 + g % 50, CASE WHEN g % 2 = 0 THEN 'NORTH' ELSE 'SOUTH' END, 'YEAR-CANARY-' || g
FROM generate_series(0, 24 * ($nights + 40) - 1) g;
CREATE INDEX ON public.visits (seen);
SQL

policy() {  # policy VERSION DESCRIPTION RETAIN
  cat >"$out/policies/visits.yaml" <<YAML
name: visits
version: $1
description: >
  $2
table: public.visits
key: id
age: seen
retain: $3
action: delete
patron: patron_id
libraries:
  column: branch
  retain:
    SOUTH: 45 days
  names: [NORTH]
YAML
}
policy 1 "Visit records let staff follow up on a visit for a month." "30 days"

day() { date -u -d "2026-01-01 +$1 days" +%F; }
for (( night = 0; night < nights; night++ )); do
  date=$(day "$night")
  echo "@$date 02:15:00" >"$clock"
  case $night in
    100) echo "special missing $date"; continue ;;
    200) policy 2 "Visit records, version 2. <script>alert('policy')</script> </table> \"quoted\" and a right-to-left mark ‮ here." "25 days"
         echo "special version $date" ;;
    60) "$retention" hold place --reference "Case <script>alert('hold')</script> 7" \
          --reason "Court order ‮ </table> \"quoted\" & more" --patron 900007 --policy visits --log-format text >/dev/null
        echo "special hold $date" ;;
    120) "$retention" hold place --reference "Order 2026-120" --reason "Audit of the north branch" \
           --library NORTH --policy visits --log-format text >/dev/null
         echo "special hold $date" ;;
    250) psql -q -c "UPDATE retention.holds SET released_by = current_user, released_at = now() WHERE reference = 'Order 2026-120'"
         echo "special release $date" ;;
  esac
  case $night in
    40)
      # Another session holds the table in SHARE mode (a long report, an ALTER TABLE) past the run's
      # lock timeout: the run gives up before its first batch and records a failed night.
      psql -q -c "BEGIN" -c "LOCK TABLE public.visits IN SHARE MODE" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
      holder=$!
      for _ in $(seq 500); do
        (( $(psql -Atc "SELECT count(*) FROM pg_locks WHERE relation = 'public.visits'::regclass AND mode = 'ShareLock' AND granted") >= 1 )) && break
        sleep 0.01
      done
      status=0; "$retention" run --quiet --jobs 1 --lock-timeout 200ms 2>/dev/null || status=$?
      psql -q -Atc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()" >/dev/null
      wait "$holder" 2>/dev/null || true
      [[ $status == 1 ]] || { echo "year-of-manifests.sh: night $night should have failed, exit $status" >&2; exit 1; }
      echo "special failed $date" ;;
    150)
      psql -q -c "INSERT INTO public.visits (seen, patron_id, branch, name) SELECT now() - interval '100 days', 900001, 'NORTH', 'LATE-CANARY' FROM generate_series(1, 20000)"
      "$retention" run --quiet --jobs 1 --batch-size 20 2>/dev/null &
      child=$!
      for _ in $(seq 500); do
        (( $(psql -Atc "SELECT count(DISTINCT batch) FROM retention.batches b JOIN retention.runs r ON r.id = b.run_id WHERE r.status = 'running'") >= 3 )) && break
        sleep 0.01
      done
      kill -9 "$child"; wait "$child" 2>/dev/null || true
      echo "special recovered $date" ;;
    300)
      psql -q -c "INSERT INTO public.visits (seen, patron_id, branch, name) SELECT now() - interval '100 days', 900002, 'SOUTH', 'LATE-CANARY' FROM generate_series(1, 30000)"
      status=0; "$retention" run --quiet --jobs 1 --max-rows 5000 2>/dev/null || status=$?
      [[ $status == 0 ]] || { echo "year-of-manifests.sh: night $night's capped run should exit 0, exit $status" >&2; exit 1; }
      echo "special stopped $date" ;;
    *)
      "$retention" run --quiet --jobs 1 ;;
  esac
done
echo "manifests: $(ls "$out/manifests" | wc -l)"
