#!/usr/bin/env bash
# Evergreen ILS's own schema as a test bed: load it into a throwaway PostgreSQL,
# fill it with plausible circulations, holds, bills and patrons through
# Evergreen's own tables (its triggers on), and run Evergreen's own purge
# functions, so that retention's results can be compared with Evergreen's.
#
#   scripts/evergreen.sh load DB        create DB as Evergreen does and load the pinned
#                                       schema (Tests/Fixtures/evergreen, see SOURCE.md)
#   scripts/evergreen.sh flags DB       set the history.* retention global flags
#   scripts/evergreen.sh data DB [--circs N] [--holds M] [--patrons P] [--seed S]
#                                       generate data over the last 4 years
#                                       (defaults 5000 circulations, 2000 holds, 500 patrons, seed 1)
#   scripts/evergreen.sh purge DB       SELECT action.purge_circulations(), action.purge_holds()
#   scripts/evergreen.sh clone SRC DST  CREATE DATABASE DST TEMPLATE SRC (two identical copies)
#   scripts/evergreen.sh stats DB       rows per table and the checks of the data shape
#
# `data` keeps every generated time at least 3 days away from now() minus
# 1 mon, 6 months, 1 year and 2 years (the purge boundaries of `flags`) and
# from the dates patrons opted in to history, so that a purge run minutes
# later, or one counting months differently, decides every row the same way.
#
# Typical run:
#   eval "$(scripts/pg.sh start /tmp/eg-pg)"
#   scripts/evergreen.sh load eg && scripts/evergreen.sh flags eg && scripts/evergreen.sh data eg
#   scripts/evergreen.sh clone eg eg_purged && scripts/evergreen.sh purge eg_purged
#
# The connection comes from the PG* environment variables (PGHOST, PGPORT,
# PGUSER); the user must be a superuser (CREATE LANGUAGE plperlu, extensions,
# session_replication_role, plperl.on_plperlu_init). The server needs PL/Perl
# (postgresql-plperl-NN, an optional package of scripts/install-deps.sh).
#
# Evergreen's Perl functions `use` CPAN modules Debian 12 cannot install here
# without upgrading perl (see SOURCE.md). JSON::XS is the one that matters:
# oils_json_to_text() runs in a BEFORE INSERT trigger of every circulation
# and in action.purge_holds(), and is_json() guards seed rows. So every
# database made here gets `plperl.on_plperlu_init` (ALTER DATABASE ... SET)
# with a stand-in: JSON::XS as a subclass of JSON::PP, which is in perl's
# core and has the same new/allow_nonref/decode API. The SQL files are not
# changed. MARC::Record & co. (bib record ingest) have no stand-in: bib rows
# are inserted with their triggers off (see `load` and `data`).
set -euo pipefail

die() { echo "evergreen.sh: $*" >&2; exit 1; }

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
fixtures=$here/Tests/Fixtures/evergreen

# Manifest entries deliberately not in the fixture folder: data-only files
# (XSLT stylesheets, MARC21 tag tables) that nothing here needs; see SOURCE.md.
omitted=" 951.data.MODS-xsl.sql 952.data.MODS3-xsl.sql 953.data.MODS32-xsl.sql 954.data.MODS33-xsl.sql "
omitted+=" 954.data.marc21expand880.sql 955.data.MADS21-xsl.sql 960.data.marc21-tag-tables.sql "

# The JSON::XS stand-in (see the header).
json_shim='require JSON::PP; @JSON::XS::ISA = ("JSON::PP"); $INC{"JSON/XS.pm"} = "JSON::PP (evergreen.sh stand-in)";'

# -X: no ~/.psqlrc; stop at the first error unless a caller says otherwise.
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# A database name goes into SQL unquoted (as in Evergreen's own scripts), so
# only plain identifiers are accepted.
check_name() {
  [[ ${1:-} =~ ^[a-z_][a-z0-9_]*$ ]] || die "database name must match [a-z_][a-z0-9_]*: '${1:-}'"
}

now_s() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'; }

# The stand-in as a database setting, so that every session gets it (also
# the tests' own connections). LOAD first so that the server validates the
# setting as plperl's own (superuser-only) parameter.
set_shim() {
  q -d "$1" -v shim="$json_shim" -v db="$1" <<'SQL'
LOAD 'plperl';
ALTER DATABASE :"db" SET plperl.on_plperlu_init = :'shim';
SQL
}

# ---------------------------------------------------------------------------
cmd_load() {
  local db=$1 t0 log f files=() n_err
  check_name "$db"
  t0=$(now_s)
  log=${TMPDIR:-/tmp}/evergreen-load-$db.log
  : >"$log"

  q -d postgres -Atc "SELECT 1 FROM pg_available_extensions WHERE name = 'plperlu'" | grep -q 1 ||
    die "the server has no PL/Perl (install postgresql-plperl-NN: scripts/install-deps.sh)"

  # The manifest's order; FTS_CONFIG_FILE is what build-db.sh substitutes.
  while read -r f; do
    [[ -z $f || $f == \#* ]] && continue
    [[ $f == FTS_CONFIG_FILE ]] && f=000.english.pg.fts-config.sql
    if [[ ! -f $fixtures/$f ]]; then
      [[ $omitted == *" $f "* ]] && continue
      die "$fixtures/$f is missing"
    fi
    files+=("$f")
  done < <(tr -d ' \r' <"$fixtures/sql_file_manifest")

  # Evergreen's own database creation script: DROP/CREATE DATABASE (template0,
  # UNICODE, C collation), CREATE LANGUAGE plperlu and the extensions.
  q -d postgres -v db_name="$db" -f "$fixtures/create_database_extensions.sql" >>"$log" 2>&1 ||
    die "create_database_extensions.sql failed (log: $log)"
  set_shim "$db"

  # Like build-db.sh: each file in its own psql, eg_version=NULL, and no stop
  # on errors (a failed statement is logged and the load goes on). Function
  # bodies are not checked at creation because files create functions that
  # use objects of later files.
  for f in "${files[@]}"; do
    (cd "$fixtures" &&
      PGOPTIONS="${PGOPTIONS:-} -c check_function_bodies=off -c client_min_messages=warning" \
        psql -X -q -d "$db" -v eg_version=NULL -f "$f" 2>&1 | grep -v '^INSERT ' >>"$log") || true
  done
  n_err=$(grep -c 'ERROR:' "$log" || true)
  echo "evergreen.sh: loaded ${#files[@]} files in $(since "$t0") s; $n_err failed statements" \
       "(expected 2: 950.data.seed-values.sql bib record -1 and call number -1); log: $log"
  grep -o '^psql:[^:]*:[0-9]*: ERROR: .\{0,70\}' "$log" | sed 's/^psql:/  /' | head -n 10 || true

  # What the two failed seed rows would have provided, and what `data` needs.
  q -d "$db" <<'SQL'
BEGIN;
-- The pre-cataloged bib record -1, exactly as 950.data.seed-values.sql
-- inserts it. Its triggers (maintain_901, ingest) need MARC::Record, so this
-- one row goes in with triggers off: replica mode skips ordinary triggers.
SET LOCAL session_replication_role = replica;
INSERT INTO biblio.record_entry VALUES (-1,1,1,1,-1,NOW(),NOW(),FALSE,FALSE,'','AUTOGEN','-1','<record xmlns="http://www.loc.gov/MARC21/slim"/>','FOO');
SET LOCAL session_replication_role = origin;
-- Its call number, as the seed file has it, with triggers on.
INSERT INTO asset.call_number VALUES (-1,1,NOW(),1,NOW(),-1,1,'UNCATALOGED');
-- The seed has one org unit (the consortium). Patrons and items belong to
-- branches, so a system with three branches as in Evergreen's sample data.
INSERT INTO actor.org_unit (parent_ou, ou_type, shortname, name)
  VALUES (1, 2, 'SYS1', 'Example System 1');
INSERT INTO actor.org_unit (parent_ou, ou_type, shortname, name)
  SELECT id, 3, 'BR' || n, 'Example Branch ' || n
    FROM actor.org_unit, generate_series(1, 3) n WHERE shortname = 'SYS1';
COMMIT;
SQL

  # What the comparison needs; one line per missing piece, then fail.
  local missing
  missing=$(q -d "$db" -At <<'SQL'
SELECT 'table ' || t FROM unnest(ARRAY['action.circulation', 'action.aged_circulation',
    'action.hold_request', 'action.aged_hold_request', 'money.billing', 'actor.usr',
    'actor.usr_setting', 'auditor.actor_usr_history']) t
  WHERE to_regclass(t) IS NULL
UNION ALL
SELECT 'function ' || f FROM unnest(ARRAY['action.purge_circulations()', 'action.purge_holds()']) f
  WHERE to_regprocedure(f) IS NULL
UNION ALL
SELECT 'trigger ' || tg FROM unnest(ARRAY[
    'action.circulation action_circulation_aging_tgr', 'action.circulation age_parent_circ',
    'action.circulation mat_summary_create_tgr', 'action.circulation mat_summary_remove_tgr',
    'action.hold_request action_hold_request_aging_tgr',
    'actor.usr audit_actor_usr_update_trigger', 'money.billing mat_summary_add_tgr']) tg
  WHERE NOT EXISTS (SELECT 1 FROM pg_trigger
                     WHERE tgrelid = to_regclass(split_part(tg, ' ', 1))
                       AND tgname = split_part(tg, ' ', 2))
UNION ALL
SELECT 'row ' || r FROM (VALUES ('biblio.record_entry -1', (SELECT count(*) FROM biblio.record_entry WHERE id = -1)),
                                ('asset.call_number -1', (SELECT count(*) FROM asset.call_number WHERE id = -1)),
                                ('hold cancel causes', (SELECT count(*) FROM action.hold_request_cancel_cause)),
                                ('history.* global flags', (SELECT count(*) FROM config.global_flag WHERE name LIKE 'history.%'))) x(r, n)
  WHERE n = 0;
SQL
  ) || die "the checks could not run (log: $log)"
  [[ -z $missing ]] || die "$db lacks $(echo "$missing" | paste -sd, -) (log: $log)"
  echo "evergreen.sh: $db ready in $(since "$t0") s"
}

# ---------------------------------------------------------------------------
cmd_flags() {
  local db=$1
  check_name "$db"
  # Per-cancel-cause ages for two causes: 6 "Patron via OPAC" and 2 "Hold
  # Shelf expiration". history.circ.retention_uses_last_finished and
  # history.circ.retention_age_is_min stay as seeded (both disabled: the age
  # counts from the chain's last circulation's xact_finish, and is not a minimum).
  # The seed also has history.hold.retention_age_canceled_3/_4/_5 enabled with
  # no value; purge_holds then falls back to retention_age_canceled.
  q -d "$db" -At <<'SQL'
BEGIN;
CREATE TEMP TABLE eg_flag (name, value) AS VALUES
  ('history.circ.retention_age', '2 years'),
  ('history.circ.retention_count', '3'),
  ('history.hold.retention_age', '2 years'),
  ('history.hold.retention_age_fulfilled', '1 year'),
  ('history.hold.retention_age_canceled', '6 months'),
  ('history.hold.retention_age_canceled_6', '1 year'),
  ('history.hold.retention_age_canceled_2', '1 mon');
UPDATE config.global_flag g SET value = f.value, enabled = true FROM eg_flag f WHERE g.name = f.name;
INSERT INTO config.global_flag (name, value, enabled, label)
  SELECT name, value, true, name FROM eg_flag f
   WHERE NOT EXISTS (SELECT 1 FROM config.global_flag g WHERE g.name = f.name);
COMMIT;
SELECT format('%-45s %-9s enabled=%s%s', g.name, coalesce(g.value, '(null)'), g.enabled,
              coalesce('  (cause ' || c.id || ': ' || c.label || ')', ''))
  FROM config.global_flag g
  LEFT JOIN action.hold_request_cancel_cause c ON g.name = 'history.hold.retention_age_canceled_' || c.id
 WHERE g.name LIKE 'history.circ.%' OR g.name LIKE 'history.hold.%'
 ORDER BY g.name;
SQL
}

# ---------------------------------------------------------------------------
cmd_data() {
  local db=$1 circs=5000 holds=2000 patrons=500 seed=1 t0
  check_name "$db"; shift
  while (( $# )); do
    case $1 in
      --circs) circs=${2:-};; --holds) holds=${2:-};; --patrons) patrons=${2:-};; --seed) seed=${2:-};;
      *) die "data: unknown option $1";;
    esac
    [[ ${2:-} =~ ^[0-9]+$ ]] || die "data: $1 needs a number"
    shift 2
  done
  (( circs >= 100 && patrons >= 20 )) || die "data: at least --circs 100 and --patrons 20"
  t0=$(now_s)
  # One transaction: now() is the same instant for every generated time.
  q -d "$db" -v circs="$circs" -v holds="$holds" -v patrons="$patrons" -v seed="$seed" -f - <<'SQL'
\pset footer off
BEGIN;
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM actor.usr WHERE usrname LIKE 'patron%') THEN
    RAISE EXCEPTION 'evergreen.sh: this database already has generated data; load a fresh one';
  END IF;
END $$;
SELECT setseed((:seed % 1000000) / 1000000.0) \gset

-- == Time ==================================================================
-- Every generated time is a "virtual day" v (days since now() - 4 years),
-- mapped to a real time by pg_temp.eg_at(v). The map skips windows of 4 days
-- either side of each boundary that a purge compares times with (now() minus
-- 1 mon, 6 months, 1 year, 2 years) and of each date a patron can have
-- opted in to history on (now() minus 3, 9, 20, 30, 42 months). So no
-- generated time lies within 3 days of a boundary, even after Evergreen
-- pushes a due date to 23:59:59 of its day: month arithmetic (AGE() versus
-- now() - interval) and the seconds or hours between two purges cannot flip
-- a row from kept to purged. The map is increasing, so order (start <
-- due < checkin < next renewal) is kept; a span across a window grows by 8 days.
CREATE TEMP TABLE eg_param AS
  SELECT now() - interval '4 years' AS origin,
         (extract(epoch FROM now()) - extract(epoch FROM now() - interval '4 years')) / 86400 AS real_days;
CREATE TEMP TABLE eg_start (n, d) AS    -- the dates patrons opted in to history
  SELECT n, date_trunc('day', now() - m * interval '1 month')
    FROM unnest(ARRAY[42, 30, 20, 9, 3]) WITH ORDINALITY u(m, n);
CREATE TEMP TABLE eg_win AS
  WITH b(ts) AS (
    SELECT now() - x FROM unnest(ARRAY[interval '1 mon', '6 months', '1 year', '2 years']) x
    UNION ALL SELECT d FROM eg_start)
  SELECT (extract(epoch FROM ts) - extract(epoch FROM p.origin)) / 86400 - 4 AS lo, 8.0::float8 AS w
    FROM b, eg_param p;
ALTER TABLE eg_win ADD vlo float8;   -- where the window starts on the virtual line
UPDATE eg_win x SET vlo = x.lo - coalesce((SELECT sum(w) FROM eg_win y WHERE y.lo < x.lo), 0);
-- eg_at(v) = origin + v + (widths of the windows at or before v), written out
-- as one inlinable SQL expression.
DO $$ BEGIN
  EXECUTE format('CREATE FUNCTION pg_temp.eg_at(v float8) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS %L',
    format('SELECT %L::timestamptz + (v%s) * interval ''1 day''',
           (SELECT origin FROM eg_param),
           (SELECT string_agg(format(' + CASE WHEN v >= %s THEN %s ELSE 0 END', vlo, w), '' ORDER BY vlo) FROM eg_win)));
END $$;
-- T: now() on the virtual line.
SELECT real_days - (SELECT sum(w) FROM eg_win) AS "T" FROM eg_param \gset
SELECT array_agg(id ORDER BY id)::text AS branches, count(*) AS nbranch
  FROM actor.org_unit WHERE ou_type = 3 \gset

-- Block of n ids from a sequence (what the application would draw one by one).
CREATE FUNCTION pg_temp.eg_ids(seq regclass, n bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE first bigint := nextval(seq);
BEGIN
  IF n > 1 THEN PERFORM setval(seq, first + n - 1); END IF;
  RETURN first;
END $$;

-- == Patrons ===============================================================
-- 40% registered before the 4 years (up to ~5.5 years earlier), the rest
-- spread over the first 90% of the 4 years, in order of k, so that the
-- patrons existing at virtual day t are k <= eg_known(t); circulations and
-- holds pick among those.
SELECT round(:patrons * 0.4)::int AS p0, pg_temp.eg_ids('actor.usr_id_seq', :patrons) AS usr0 \gset
CREATE TEMP TABLE eg_pat AS
  SELECT k, :usr0 + k - 1 AS id,
         CASE WHEN k <= :p0 THEN -1 - (:p0 - k + random() * 0.9) * 2000.0 / :p0
              ELSE (k - :p0 - 1 + random() * 0.9) / (:patrons - :p0) * 0.9 * :T END AS create_v,
         (:'branches'::int[])[1 + floor(random() * :nbranch)::int] AS home_ou,
         date '1940-01-01' + floor(random() * 27000)::int AS dob,
         random() AS r_circ_hist, random() AS r_hold_hist, random() AS r_age, random() AS r_count,
         random() AS r_change, random() AS r_card
    FROM generate_series(1, :patrons) k;
CREATE FUNCTION pg_temp.eg_known(t float8, p int, p0 int, tt float8) RETURNS int LANGUAGE sql IMMUTABLE AS
  $$ SELECT greatest(1, p0 + floor((p - p0) * least(greatest(t, 0) / (0.9 * tt), 1))::int) $$;
-- History opt-ins: a start date (one of eg_start, after registration);
-- ~20% for circulations, ~15% for holds, and of those about half also with
-- a retention age and a third with a count.
ALTER TABLE eg_pat ADD circ_start date, ADD hold_start date, ADD hold_age text, ADD hold_count int;
UPDATE eg_pat p SET
  circ_start = CASE WHEN r_circ_hist < 0.20 THEN (SELECT d FROM eg_start s WHERE s.d > pg_temp.eg_at(p.create_v)
                                                   ORDER BY (s.n * 7919 + p.k) % 5 LIMIT 1) END,
  hold_start = CASE WHEN r_hold_hist < 0.15 THEN (SELECT d FROM eg_start s WHERE s.d > pg_temp.eg_at(p.create_v)
                                                   ORDER BY (s.n * 104729 + p.k) % 5 LIMIT 1) END;
UPDATE eg_pat SET hold_age = (ARRAY['1 year', '6 months', '2 years'])[1 + floor(r_age / 0.5 * 3)::int]
 WHERE hold_start IS NOT NULL AND r_age < 0.5;
UPDATE eg_pat SET hold_count = (ARRAY[5, 10, 25])[1 + floor(r_count / 0.34 * 3)::int]
 WHERE hold_start IS NOT NULL AND r_count < 0.34;

-- == Items =================================================================
-- About 12 circulation rows per circulated copy; 8% extra copies so that
-- some never circulate. A quarter of the copies circulate 1-3 times in the
-- 4 years, the rest 5-20 times. The last loan of a copy is still out for
-- ~35% of the copies: 30% recently checked out, 3% lost (stop_fines LOST,
-- status Lost), 2% stopped at the maximum fine (MAXFINES).
SELECT ceil(:circs / 12.2 * 1.08)::int AS ncopies \gset
SELECT ceil(:ncopies * 0.7)::int AS nbib \gset
SELECT pg_temp.eg_ids('biblio.record_entry_id_seq', :nbib) AS bib0,
       pg_temp.eg_ids('asset.copy_id_seq', :ncopies) AS copy0 \gset
CREATE TEMP TABLE eg_copy AS
  SELECT k, :copy0 + k - 1 AS id, :bib0 + (k - 1) % :nbib AS bib,
         (:'branches'::int[])[1 + floor(random() * :nbranch)::int] AS circ_lib,
         CASE WHEN random() < 0.25 THEN 1 + floor(random() * 3)::int ELSE 5 + floor(random() * 16)::int END AS n,
         CASE WHEN r < 0.30 THEN 'out' WHEN r < 0.33 THEN 'lost' WHEN r < 0.35 THEN 'maxfines' ELSE 'in' END AS state,
         CASE WHEN random() < 0.7 THEN random() * 60 ELSE random() * 0.7 * :T END AS s_v,   -- in circulation from
         round((10 + random() * 30)::numeric, 2) AS price,
         random() AS r_open
    FROM (SELECT k, random() AS r FROM generate_series(1, :ncopies) k) x;
CREATE INDEX ON eg_copy (bib);
ANALYZE eg_copy;

-- Loans ("chains"): 12% are renewal chains of 2-4 circulations. A copy's
-- last chain is the open one when the copy's state is not 'in'.
CREATE TEMP TABLE eg_chain AS
  SELECT c.k AS copyk, j, (j = c.n AND c.state <> 'in') AS open,
         CASE WHEN random() < 0.12 THEN 2 + floor(random() * 3)::int ELSE 1 END AS links,
         CASE WHEN random() < 0.8 THEN 14 ELSE 7 END AS loan_d,
         random() AS r_place
    FROM eg_copy c, generate_series(1, c.n) j;
CREATE INDEX ON eg_chain (copyk, j);
ANALYZE eg_chain;
-- c: days from a circulation's start to its checkin (= the next renewal's
-- start). Renewals happen 0-3 days before the due date; a chain's last
-- circulation comes back early (75%) or 1-21 days late; open: no checkin.
CREATE TEMP TABLE eg_link AS
  SELECT h.copyk, h.j, i,
         CASE WHEN i < h.links THEN h.loan_d - random() * 3
              WHEN h.open THEN NULL
              WHEN random() < 0.25 THEN h.loan_d + 1 + random() * 20
              ELSE 0.2 + random() * (h.loan_d - 0.2) END AS c
    FROM eg_chain h, generate_series(1, h.links) i;
ANALYZE eg_link;
ALTER TABLE eg_link ADD off float8;    -- days from the chain's start to this circulation's start
UPDATE eg_link l SET off = x.off
  FROM (SELECT copyk, j, i, coalesce(sum(c) OVER (PARTITION BY copyk, j ORDER BY i
                                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS off
          FROM eg_link) x
 WHERE x.copyk = l.copyk AND x.j = l.j AND x.i = l.i;
ALTER TABLE eg_chain ADD span float8, ADD start_v float8, ADD f float8 DEFAULT 1, ADD keep bool DEFAULT true;
UPDATE eg_chain h SET span = x.span
  FROM (SELECT copyk, j, coalesce(sum(c), 0) AS span FROM eg_link GROUP BY copyk, j) x WHERE x.copyk = h.copyk AND x.j = h.j;

-- The open chain: its last circulation started 0.5-25 days ago (out), 120-900
-- (lost) or 80-600 (maxfines) days ago.
UPDATE eg_chain h SET start_v = :T - CASE c.state WHEN 'out' THEN 0.5 + c.r_open * 24.5
                                                  WHEN 'lost' THEN 120 + c.r_open * 780
                                                  ELSE 80 + c.r_open * 520 END - h.span
  FROM eg_copy c WHERE c.k = h.copyk AND h.open;
-- The finished chains share [S, E): from when the copy circulates to a day
-- before the open chain (or half a day ago), one slot each, at least 10 days
-- a slot (chains that do not fit are dropped). A chain longer than 90% of its
-- slot is shrunk to fit (f < 1); chains never overlap.
CREATE TEMP TABLE eg_area AS
  SELECT k, least(s_v, greatest(e - 10, 0)) AS s, e,
         least(n - (state <> 'in')::int, greatest(floor((e - least(s_v, greatest(e - 10, 0))) / 10), 0))::int AS nfin
    FROM (SELECT c.*, coalesce(h.start_v - 1, :T - 0.5) AS e
            FROM eg_copy c LEFT JOIN eg_chain h ON h.copyk = c.k AND h.open) x;
UPDATE eg_chain h SET keep = false FROM eg_area a WHERE a.k = h.copyk AND NOT h.open AND h.j > a.nfin;
UPDATE eg_chain h SET
    f = least(1, 0.9 * ((a.e - a.s) / a.nfin) / h.span),
    start_v = a.s + (h.j - 1) * (a.e - a.s) / a.nfin
              + h.r_place * greatest((a.e - a.s) / a.nfin - h.span * least(1, 0.9 * ((a.e - a.s) / a.nfin) / h.span), 0) * 0.95
  FROM eg_area a WHERE a.k = h.copyk AND NOT h.open AND h.keep;
-- Exactly :circs circulation rows: chains in copy order until the total is
-- reached (the last chain may lose renewals; an open chain that does becomes
-- a finished one). Copies past the cut never circulated.
ALTER TABLE eg_chain ADD before int, ADD nlinks int;
UPDATE eg_chain h SET before = x.before
  FROM (SELECT copyk, j, coalesce(sum(links) OVER (ORDER BY copyk, j ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
          FROM eg_chain WHERE keep) x
 WHERE x.copyk = h.copyk AND x.j = h.j;
UPDATE eg_chain SET keep = false WHERE before >= :circs;
UPDATE eg_chain SET nlinks = least(links, :circs - before) WHERE keep;
UPDATE eg_chain SET open = false WHERE keep AND nlinks < links;
DELETE FROM eg_chain WHERE NOT keep;
DELETE FROM eg_link l WHERE NOT EXISTS (SELECT 1 FROM eg_chain h WHERE h.copyk = l.copyk AND h.j = l.j AND l.i <= h.nlinks);
-- A patron per chain, among those registered by its start.
ALTER TABLE eg_chain ADD usrk int;
UPDATE eg_chain SET usrk = 1 + floor(random() * pg_temp.eg_known(start_v, :patrons, :p0, :T))::int;

-- == Circulations ==========================================================
SELECT pg_temp.eg_ids('money.billable_xact_id_seq', :circs) AS circ0 \gset
CREATE TEMP TABLE eg_circ AS
  SELECT :circ0 - 1 + row_number() OVER (ORDER BY h.start_v + h.f * l.off) AS id,   -- ids in time order
         l.copyk, l.j, l.i, h.nlinks, h.loan_d, c.id AS copy, c.bib, c.circ_lib, c.state, c.price,
         p.id AS usr, p.circ_start, p.create_v,
         h.start_v + h.f * l.off AS start_v,
         h.start_v + h.f * l.off + h.loan_d AS due_v,
         CASE WHEN h.open AND l.i = h.nlinks THEN NULL ELSE h.start_v + h.f * (l.off + l.c) END AS checkin_v,
         h.open AND l.i = h.nlinks AS is_open,
         l.i = h.nlinks AS is_tail,
         random() AS r1, random() AS r2, random() AS r3
    FROM eg_link l JOIN eg_chain h USING (copyk, j) JOIN eg_copy c ON c.k = l.copyk JOIN eg_pat p ON p.k = h.usrk;
CREATE INDEX ON eg_circ (copyk, j, i);
CREATE INDEX ON eg_circ (copy);
ANALYZE eg_circ;
ALTER TABLE eg_circ ADD parent bigint, ADD fine_days int DEFAULT 0, ADD stop_v float8, ADD paid_v float8,
                    ADD owed bool DEFAULT false, ADD finish_v float8, ADD stop_fines text;
UPDATE eg_circ x SET parent = y.id FROM eg_circ y WHERE y.copyk = x.copyk AND y.j = x.j AND y.i = x.i - 1;
-- Overdue fines, 0.10 a day up to 5.00 (Evergreen's default rules), one
-- billing a day after a day of grace. A late return is paid at once (70%) or
-- 1-45 days later; a few (5%) of those returned over 2 years ago are still
-- unpaid, so their circulation stays unfinished (xact_finish NULL), as
-- Evergreen keeps a circulation open while money is owed.
UPDATE eg_circ SET fine_days = least(floor(checkin_v - due_v), 50)
 WHERE is_tail AND NOT is_open AND checkin_v > due_v + 1;
UPDATE eg_circ SET owed = true
 WHERE fine_days > 0 AND pg_temp.eg_at(checkin_v) < now() - interval '2 years 1 month' AND r1 < 0.05;
UPDATE eg_circ SET paid_v = CASE WHEN r2 < 0.7 THEN checkin_v ELSE least(checkin_v + 1 + r3 * 44, :T - 0.2) END
 WHERE fine_days > 0 AND NOT owed;
-- Open ones: overdue fines until now (out), until marked lost 30-45 days
-- after the due date (lost), or until the 5.00 maximum (maxfines).
UPDATE eg_circ SET fine_days = greatest(least(floor(:T - due_v), 50), 0) WHERE is_open AND state = 'out' AND :T > due_v + 1;
UPDATE eg_circ SET stop_v = due_v + 30 + r1 * 15, fine_days = least(floor(30 + r1 * 15), 50), stop_fines = 'LOST'
 WHERE is_open AND state = 'lost';
UPDATE eg_circ SET stop_v = due_v + 50, fine_days = 50, stop_fines = 'MAXFINES' WHERE is_open AND state = 'maxfines';
UPDATE eg_circ SET stop_fines = CASE WHEN NOT is_tail THEN 'RENEW' ELSE 'CHECKIN' END, stop_v = checkin_v
 WHERE NOT is_open;
UPDATE eg_circ SET finish_v = CASE WHEN is_open OR owed THEN NULL WHEN paid_v IS NOT NULL THEN paid_v ELSE checkin_v END;
-- Circulation history opt-ins apply from their start date (batch 2).
ALTER TABLE eg_circ ADD batch int;
UPDATE eg_circ x SET batch = CASE WHEN h.circ_start IS NOT NULL AND pg_temp.eg_at(h.start_v) >= h.circ_start THEN 2 ELSE 1 END
  FROM eg_circ h WHERE h.copyk = x.copyk AND h.j = x.j AND h.i = 1;

-- == Holds =================================================================
-- 55% fulfilled (each by a checkout: same patron, copy and time), 30%
-- cancelled, 15% open.
SELECT least(round(:holds * 0.55), (SELECT count(*) FROM eg_circ WHERE i = 1))::int AS nful,
       round(:holds * 0.30)::int AS ncan \gset
SELECT :holds - :nful - :ncan AS nopen, pg_temp.eg_ids('action.hold_request_id_seq', :holds) AS hold0 \gset
CREATE TEMP TABLE eg_hold (
  id int, kind text, usr int, requestor int, hold_type text, target bigint, current_copy bigint,
  pickup_lib int, request_v float8, capture_v float8, fulfill_v float8, cancel_v float8,
  cause int, frozen bool DEFAULT false, email bool, phone bool);
INSERT INTO eg_hold (kind, usr, requestor, hold_type, target, current_copy, pickup_lib,
                     request_v, capture_v, fulfill_v, email, phone)
  SELECT 'fulfilled', usr, CASE WHEN r1 < 0.8 THEN usr ELSE 1 END,
         CASE WHEN r2 < 0.05 THEN 'C' ELSE 'T' END, CASE WHEN r2 < 0.05 THEN copy ELSE bib END, copy, circ_lib,
         start_v - least(2 + r3 * 58, greatest(start_v, 0.5)),
         start_v - least(2 + r3 * 58, greatest(start_v, 0.5)) * (0.05 + 0.25 * r1),
         start_v, r2 < 0.6, r3 < 0.2
    FROM (SELECT *, random() AS o FROM eg_circ WHERE i = 1) x ORDER BY o LIMIT :nful;
-- Cancel causes: 6 Patron via OPAC 40%, 2 Hold Shelf expiration 20%,
-- 1 Untargeted expiration 12% (cancelled when it expires, a year after the
-- request), 5 Staff forced 10%, 4 Patron in person 10%, 3 Patron via phone 8%.
INSERT INTO eg_hold (kind, cause, hold_type, request_v, cancel_v, email, phone)
  SELECT 'cancelled', cause, 'T', cancel_v - d, cancel_v, random() < 0.6, random() < 0.2
    FROM (SELECT cause, d, d + random() * (:T - 0.1 - d) AS cancel_v
            FROM (SELECT CASE WHEN r < 0.40 THEN 6 WHEN r < 0.60 THEN 2 WHEN r < 0.72 THEN 1
                              WHEN r < 0.82 THEN 5 WHEN r < 0.92 THEN 4 ELSE 3 END AS cause, r2
                    FROM (SELECT random() AS r, random() AS r2 FROM generate_series(1, :ncan)) a) b
           CROSS JOIN LATERAL (SELECT CASE cause WHEN 1 THEN 365 WHEN 2 THEN 10 + r2 * 50 ELSE 1 + r2 * 60 END AS d) dd) c;
INSERT INTO eg_hold (kind, hold_type, request_v, frozen, email, phone)
  SELECT 'open', 'T', :T - 0.5 - random() * 120, random() < 0.1, random() < 0.6, random() < 0.2
    FROM generate_series(1, :nopen);
-- Ids in time order.
UPDATE eg_hold SET id = x.id
  FROM (SELECT ctid AS c, :hold0 - 1 + row_number() OVER (ORDER BY request_v) AS id FROM eg_hold) x
 WHERE x.c = eg_hold.ctid;
-- Bib, patron (registered by the request) and pickup library of the others.
ALTER TABLE eg_hold ADD usrk int;
UPDATE eg_hold SET target = :bib0 + floor(random() * :nbib)::int,
                   usrk = 1 + floor(random() * pg_temp.eg_known(request_v, :patrons, :p0, :T))::int
 WHERE kind <> 'fulfilled';
UPDATE eg_hold h SET usr = p.id, requestor = p.id, pickup_lib = p.home_ou FROM eg_pat p WHERE p.k = h.usrk;
-- A shelf-expired hold was captured (a copy of its bib) 7-10 days before.
UPDATE eg_hold h SET capture_v = h.cancel_v - 7 - random() * 3,
                     current_copy = (SELECT min(id) FROM eg_copy c WHERE c.bib = h.target)
 WHERE h.cause = 2;
-- A fifth of the open holds wait on the holds shelf: captured in the last 6
-- days with a copy that is in (no open circulation), which is then "On holds shelf".
CREATE TEMP TABLE eg_shelf AS
  SELECT h.id AS hid, c.id AS copy, c.bib
    FROM (SELECT id, row_number() OVER (ORDER BY random()) AS n FROM eg_hold WHERE kind = 'open' AND NOT frozen) h
    JOIN (SELECT id, bib, row_number() OVER (ORDER BY random()) AS n FROM eg_copy c
           WHERE NOT EXISTS (SELECT 1 FROM eg_circ x WHERE x.copy = c.id AND x.is_open)) c USING (n)
   WHERE h.n <= round(:nopen * 0.2);
UPDATE eg_hold h SET current_copy = s.copy, target = s.bib,
                     capture_v = greatest(h.request_v + 0.1, :T - 0.2 - random() * 6)
  FROM eg_shelf s WHERE s.hid = h.id;

-- == Inserts, through Evergreen's tables with their triggers on ============
-- Bib records: their triggers (maintain_901, control numbers, ingest) need
-- MARC::Record & co., which perl here lacks; so these rows alone go in with
-- triggers off (replica mode), like the seed's record -1. Titles are synthetic.
SET LOCAL session_replication_role = replica;
INSERT INTO biblio.record_entry (id, creator, editor, create_date, edit_date, tcn_source, tcn_value, marc, last_xact_id, owner)
  SELECT b, 1, 1, pg_temp.eg_at(-30 - random() * 2000), pg_temp.eg_at(-30 - random() * 2000), 'evergreen.sh', 'eg' || b,
         format('<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam a2200000 a 4500</leader>'
                '<controlfield tag="001">%s</controlfield><datafield tag="245" ind1="0" ind2="0">'
                '<subfield code="a">Title %s</subfield></datafield><datafield tag="100" ind1="1" ind2=" ">'
                '<subfield code="a">Author %s</subfield></datafield></record>', b, b, b % 997),
         'evergreen.sh', 1
    FROM generate_series(:bib0, :bib0 + :nbib - 1) b;
SET LOCAL session_replication_role = origin;

-- Everything from here on with triggers on.
CREATE TEMP TABLE eg_cn AS
  SELECT bib, circ_lib, pg_temp.eg_at(min(s_v) - 40) AS created FROM eg_copy GROUP BY bib, circ_lib;
ALTER TABLE eg_cn ADD id bigint;
UPDATE eg_cn SET id = nextval('asset.call_number_id_seq');
INSERT INTO asset.call_number (id, creator, create_date, editor, edit_date, record, owning_lib, label, label_class)
  SELECT id, 1, created, 1, created, bib, circ_lib, 'FIC ' || bib, 1 FROM eg_cn;
-- Copy status: Lost, Checked out, On holds shelf, Reshelving (back within a
-- day) or Available.
INSERT INTO asset.copy (id, circ_lib, creator, call_number, editor, create_date, edit_date, active_date,
                        status, status_changed_time, loan_duration, fine_level, price, barcode)
  SELECT c.id, c.circ_lib, 1, n.id, 1, n.created, n.created, n.created,
         CASE WHEN o.state = 'lost' THEN 3 WHEN o.id IS NOT NULL THEN 1 WHEN s.copy IS NOT NULL THEN 8
              WHEN l.checkin_v > :T - 1 THEN 7 ELSE 0 END,
         pg_temp.eg_at(coalesce(CASE WHEN o.state = 'lost' THEN o.stop_v END, o.start_v, l.checkin_v, c.s_v)),
         2, 2, c.price, '3' || lpad(c.k::text, 9, '0')
    FROM eg_copy c
    JOIN eg_cn n ON n.bib = c.bib AND n.circ_lib = c.circ_lib
    LEFT JOIN eg_circ o ON o.copy = c.id AND o.is_open
    LEFT JOIN eg_shelf s ON s.copy = c.id
    LEFT JOIN LATERAL (SELECT max(checkin_v) AS checkin_v FROM eg_circ x WHERE x.copy = c.id) l ON true;

-- Patrons, as staff register them: the user, an address and a card, then the
-- user updated to point at them (Evergreen's audit trigger logs that update
-- in auditor.actor_usr_history). 10% also have an older, inactive card.
-- Names, addresses, e-mails and phone numbers are synthetic.
SELECT coalesce(max(audit_id), 0) AS aud0 FROM auditor.actor_usr_history \gset
INSERT INTO actor.usr (id, profile, usrname, email, passwd, ident_type, ident_value, first_given_name, family_name,
                       day_phone, home_ou, dob, juvenile, create_date, expire_date)
  SELECT id, 2, 'patron' || k, 'patron' || k || '@example.org', 'demo' || k, 3, 'ID-' || k, 'Patron', 'Number ' || k,
         '555-01' || lpad((k % 100)::text, 2, '0'), home_ou, dob, dob > current_date - 18 * 365,
         pg_temp.eg_at(create_v), pg_temp.eg_at(create_v) + interval '3 years'
    FROM eg_pat;
INSERT INTO actor.usr_address (usr, street1, city, state, country, post_code)
  SELECT id, k || ' Example Street', 'Exampleville', 'EX', 'Exampleland', '999' || lpad((k % 20)::text, 2, '0') FROM eg_pat;
INSERT INTO actor.card (usr, barcode, active)
  SELECT id, '29' || lpad(k::text, 9, '0'), false FROM eg_pat WHERE r_card < 0.1;
INSERT INTO actor.card (usr, barcode, active) SELECT id, '2' || lpad(k::text, 10, '0'), true FROM eg_pat;
UPDATE actor.usr u SET card = c.id, mailing_address = a.id, billing_address = a.id
  FROM actor.card c, actor.usr_address a
 WHERE c.usr = u.id AND c.active AND a.usr = u.id AND u.id BETWEEN :usr0 AND :usr0 + :patrons - 1;
-- The audit trigger stamps now(); the history row is dated to the
-- registration it records, so that an age-based policy on
-- auditor.actor_usr_history sees 4 years of history.
UPDATE auditor.actor_usr_history h SET audit_time = u.create_date + interval '5 minutes'
  FROM actor.usr u WHERE u.id = h.id AND h.audit_id > :aud0;
SELECT coalesce(max(audit_id), 0) AS aud1 FROM auditor.actor_usr_history \gset
-- A third later changed their e-mail and renewed their card for 3 years from
-- then; the rest expire 3 years after registering.
CREATE TEMP TABLE eg_change AS
  SELECT id, k, greatest(create_v, 0) + (:T - greatest(create_v, 0)) * r_change * 3 AS change_v
    FROM eg_pat WHERE r_change < 0.33;
UPDATE actor.usr u SET email = 'patron' || c.k || '.new@example.org',
                       expire_date = pg_temp.eg_at(c.change_v) + interval '3 years'
  FROM eg_change c WHERE c.id = u.id;
UPDATE auditor.actor_usr_history h SET audit_time = pg_temp.eg_at(c.change_v)
  FROM eg_change c WHERE c.id = h.id AND h.audit_id > :aud1;

-- History opt-ins, as the OPAC stores them: JSON strings (a date, '%F', for
-- the start; an interval for the age) and a JSON number for the count.
INSERT INTO actor.usr_setting (usr, name, value)
  SELECT id, 'history.hold.retention_start', to_json(to_char(hold_start, 'YYYY-MM-DD'))::text FROM eg_pat WHERE hold_start IS NOT NULL
  UNION ALL SELECT id, 'history.hold.retention_age', to_json(hold_age)::text FROM eg_pat WHERE hold_age IS NOT NULL
  UNION ALL SELECT id, 'history.hold.retention_count', to_json(hold_count)::text FROM eg_pat WHERE hold_count IS NOT NULL;

-- Circulations before the patrons' circulation-history opt-ins, then the
-- opt-ins, then the rest: Evergreen's trigger (maintain_usr_circ_history)
-- copies a loan into action.usr_circ_history only when the patron has opted
-- in at checkout.
CREATE FUNCTION pg_temp.eg_circs(b int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO action.circulation (id, usr, xact_start, xact_finish, target_copy, circ_lib, circ_staff,
         checkin_staff, checkin_lib, renewal_remaining, grace_period, due_date, stop_fines_time, checkin_time,
         create_time, duration, fine_interval, recurring_fine, max_fine, phone_renewal, desk_renewal, opac_renewal,
         duration_rule, recurring_fine_rule, max_fine_rule, stop_fines, checkin_scan_time, parent_circ)
  SELECT id, usr, pg_temp.eg_at(start_v), pg_temp.eg_at(finish_v), copy, circ_lib, 1,
         CASE WHEN checkin_v IS NOT NULL THEN 1 END, CASE WHEN checkin_v IS NOT NULL THEN circ_lib END,
         greatest(2 - (i - 1), 0), interval '1 day', pg_temp.eg_at(due_v), pg_temp.eg_at(stop_v), pg_temp.eg_at(checkin_v),
         pg_temp.eg_at(start_v), loan_d * interval '1 day', interval '1 day', 0.10, 5.00,
         i > 1 AND r3 < 0.2, i > 1 AND r3 >= 0.2 AND r3 < 0.5, i > 1 AND r3 >= 0.5,
         CASE loan_d WHEN 14 THEN 'default' ELSE '7_days_2_renew' END, 'default', 'default',
         stop_fines, pg_temp.eg_at(checkin_v), parent
    FROM eg_circ WHERE batch = b ORDER BY id
$$;
SELECT pg_temp.eg_circs(1) \gset
INSERT INTO actor.usr_setting (usr, name, value)
  SELECT id, 'history.circ.retention_start', to_json(to_char(circ_start, 'YYYY-MM-DD'))::text
    FROM eg_pat WHERE circ_start IS NOT NULL;
SELECT pg_temp.eg_circs(2) \gset
-- Checkin is an UPDATE in Evergreen, and only that UPDATE writes
-- checkin_time into action.usr_circ_history; rows inserted checked in skip
-- it, so the last circulation of each finished chain of an opted-in patron
-- is "checked in" again (same values).
UPDATE action.circulation a SET checkin_time = a.checkin_time
  FROM eg_circ x WHERE x.id = a.id AND x.batch = 2 AND x.is_tail AND NOT x.is_open;

-- Bills (config.billing_type 1, 3, 4) and payments (cash, at the desk).
INSERT INTO money.billing (xact, amount, billing_type, btype, note, create_date, period_start, period_end)
  SELECT id, 0.10, 'Overdue Materials', 1, 'System Generated Overdue Fine',
         pg_temp.eg_at(due_v + d), pg_temp.eg_at(due_v + d - 1), pg_temp.eg_at(due_v + d)
    FROM eg_circ, generate_series(1, fine_days) d WHERE fine_days > 0;
INSERT INTO money.billing (xact, amount, billing_type, btype, note, create_date)
  SELECT id, price, 'Lost Materials', 3, 'SYSTEM GENERATED', pg_temp.eg_at(stop_v) FROM eg_circ WHERE stop_fines = 'LOST'
  UNION ALL
  SELECT id, 5.00, 'Lost Materials Processing Fee', 4, 'SYSTEM GENERATED', pg_temp.eg_at(stop_v) FROM eg_circ WHERE stop_fines = 'LOST';
INSERT INTO money.cash_payment (xact, payment_ts, amount, amount_collected, accepting_usr)
  SELECT id, pg_temp.eg_at(paid_v), fine_days * 0.10, fine_days * 0.10, 1 FROM eg_circ WHERE paid_v IS NOT NULL;

-- Holds.
INSERT INTO action.hold_request (id, request_time, capture_time, fulfillment_time, expire_time, cancel_time,
         cancel_cause, cancel_note, canceled_by, target, current_copy, fulfillment_staff, fulfillment_lib,
         request_lib, requestor, usr, selection_ou, selection_depth, pickup_lib, hold_type, phone_notify,
         email_notify, frozen, shelf_time, shelf_expire_time, current_shelf_lib)
  SELECT id, pg_temp.eg_at(request_v), pg_temp.eg_at(capture_v), pg_temp.eg_at(fulfill_v),
         pg_temp.eg_at(request_v + 365), pg_temp.eg_at(cancel_v),
         cause, CASE WHEN cause = 5 THEN 'Cancelled by staff' END,
         CASE WHEN cause IN (2, 3, 4, 5) THEN 1 WHEN cause = 6 THEN usr END,
         target, current_copy, CASE WHEN kind = 'fulfilled' THEN 1 END, CASE WHEN kind = 'fulfilled' THEN pickup_lib END,
         pickup_lib, requestor, usr, 1, 0, pickup_lib, hold_type, CASE WHEN phone THEN '555-0100' END,
         email, frozen, pg_temp.eg_at(capture_v),
         CASE WHEN cause = 2 THEN pg_temp.eg_at(cancel_v) WHEN capture_v IS NOT NULL THEN pg_temp.eg_at(capture_v + 7) END,
         CASE WHEN capture_v IS NOT NULL AND fulfill_v IS NULL THEN pickup_lib END
    FROM eg_hold ORDER BY id;
COMMIT;
SQL
  # Fresh statistics for the tables written, as a live database would have.
  # Not for the still empty action.aged_circulation and aged_hold_request:
  # analyzed while empty, they make the plans that Evergreen's aging triggers
  # cache (a lookup by id in the action.all_circulation / all_hold_request
  # views) scan them sequentially for the rest of the purge, which then
  # grows quadratically (100k circulations: 500 s instead of ~40 s). In a
  # live database these tables are large and analyzed.
  q -d "$db" -c "VACUUM ANALYZE actor.usr, actor.card, actor.usr_address, actor.usr_setting,
      auditor.actor_usr_history, biblio.record_entry, asset.call_number, asset.copy, action.circulation,
      action.usr_circ_history, action.hold_request, reporter.hold_request_record, money.billing,
      money.cash_payment, money.materialized_billable_xact_summary"
  echo "evergreen.sh: data ($circs circulations, $holds holds, $patrons patrons, seed $seed) in $(since "$t0") s"
}

# ---------------------------------------------------------------------------
cmd_purge() {
  local db=$1
  check_name "$db"
  # Each call in its own transaction, timed on the server.
  q -d "$db" -At <<'SQL'
SELECT clock_timestamp() AS t0 \gset
SELECT action.purge_circulations() AS n \gset
SELECT format('action.purge_circulations() = %s (circulation chains purged) in %s s', :n,
              round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 2));
SELECT clock_timestamp() AS t0 \gset
SELECT action.purge_holds() AS n \gset
SELECT format('action.purge_holds() = %s (holds purged) in %s s', :n,
              round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 2));
SQL
}

# ---------------------------------------------------------------------------
cmd_clone() {
  local src=$1 dst=$2 t0
  check_name "$src"; check_name "$dst"
  t0=$(now_s)
  q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $dst" \
    -c "CREATE DATABASE $dst TEMPLATE $src"
  # CREATE DATABASE ... TEMPLATE does not copy ALTER DATABASE ... SET
  # settings, and Evergreen's functions need the search_path its
  # 000.functions.general.sql sets that way (evergreen, public, pg_catalog);
  # so all of SRC's settings are copied (search_path is a list, written as
  # stored; the others are single values, quoted).
  q -d postgres -v src="$src" -v dst="$dst" <<'SQL'
SELECT format('ALTER DATABASE %I SET %s = %s', :'dst', split_part(s, '=', 1),
              CASE WHEN split_part(s, '=', 1) = 'search_path' THEN substr(s, strpos(s, '=') + 1)
                   ELSE quote_literal(substr(s, strpos(s, '=') + 1)) END)
  FROM pg_db_role_setting r JOIN pg_database d ON d.oid = r.setdatabase, unnest(r.setconfig) s
 WHERE d.datname = :'src' AND r.setrole = 0
\gexec
SQL
  echo "evergreen.sh: $dst cloned from $src in $(since "$t0") s"
}

# ---------------------------------------------------------------------------
cmd_stats() {
  local db=$1
  check_name "$db"
  q -d "$db" <<'SQL'
\pset footer off
SELECT t AS "table", n AS "rows" FROM (VALUES
  ('actor.usr (generated patrons)', (SELECT count(*) FROM actor.usr WHERE usrname LIKE 'patron%')),
  ('actor.card', (SELECT count(*) FROM actor.card)),
  ('actor.usr_address', (SELECT count(*) FROM actor.usr_address)),
  ('actor.usr_setting', (SELECT count(*) FROM actor.usr_setting)),
  ('auditor.actor_usr_history', (SELECT count(*) FROM auditor.actor_usr_history)),
  ('biblio.record_entry', (SELECT count(*) FROM biblio.record_entry)),
  ('asset.call_number', (SELECT count(*) FROM asset.call_number)),
  ('asset.copy', (SELECT count(*) FROM asset.copy)),
  ('action.circulation', (SELECT count(*) FROM action.circulation)),
  ('action.aged_circulation', (SELECT count(*) FROM action.aged_circulation)),
  ('action.usr_circ_history', (SELECT count(*) FROM action.usr_circ_history)),
  ('action.hold_request', (SELECT count(*) FROM action.hold_request)),
  ('action.aged_hold_request', (SELECT count(*) FROM action.aged_hold_request)),
  ('reporter.hold_request_record', (SELECT count(*) FROM reporter.hold_request_record)),
  ('money.billing', (SELECT count(*) FROM money.billing)),
  ('money.payment (all kinds)', (SELECT count(*) FROM money.payment)),
  ('money.materialized_billable_xact_summary', (SELECT count(*) FROM money.materialized_billable_xact_summary))
) x(t, n);
SELECT name, count(*) FROM actor.usr_setting GROUP BY name ORDER BY name;
SELECT 'circulations' AS what,
       count(*) AS "all",
       count(*) FILTER (WHERE parent_circ IS NULL) AS "chain heads",
       count(*) FILTER (WHERE parent_circ IS NOT NULL) AS "renewals",
       count(*) FILTER (WHERE xact_finish IS NULL) AS "unfinished",
       count(*) FILTER (WHERE checkin_time IS NULL) AS "not checked in",
       count(*) FILTER (WHERE checkin_time IS NOT NULL AND xact_finish IS NULL) AS "in, money owed",
       count(*) FILTER (WHERE stop_fines = 'LOST') AS "LOST",
       count(*) FILTER (WHERE stop_fines = 'MAXFINES') AS "MAXFINES",
       count(*) FILTER (WHERE checkin_time IS NULL AND due_date < now()) AS "overdue"
  FROM action.circulation;
WITH heads AS (SELECT target_copy, count(*) AS n FROM action.circulation WHERE parent_circ IS NULL GROUP BY target_copy)
SELECT CASE WHEN n <= 3 THEN '1-3' WHEN n < 5 THEN '4' WHEN n <= 10 THEN '5-10' ELSE '11+' END AS "loans per copy",
       count(*) AS copies FROM heads GROUP BY 1 ORDER BY 1;
SELECT (SELECT count(*) FROM asset.copy c WHERE id > 0 AND NOT EXISTS (SELECT 1 FROM action.circulation a WHERE a.target_copy = c.id)) AS "copies never circulated",
       (WITH RECURSIVE ch AS (SELECT id, id AS head FROM action.circulation WHERE parent_circ IS NULL
                              UNION ALL
                              SELECT c.id, ch.head FROM action.circulation c JOIN ch ON c.parent_circ = ch.id)
        SELECT count(*) FROM ch JOIN action.circulation a USING (id)
         WHERE a.xact_finish IS NOT NULL
           AND ch.head IN (SELECT h.head FROM ch h JOIN action.circulation b USING (id) WHERE b.xact_finish IS NULL))
         AS "finished circs in a chain with an unfinished link",
       (SELECT count(DISTINCT xact) FROM money.billing b JOIN action.circulation a ON a.id = b.xact WHERE a.xact_finish IS NULL) AS "unfinished circs with bills",
       (SELECT count(*) FROM money.materialized_billable_xact_summary s JOIN action.circulation a USING (id)
         WHERE s.balance_owed > 0 AND a.checkin_time < now() - interval '2 years') AS "returned > 2 years ago, still owing";
SELECT CASE WHEN fulfillment_time IS NOT NULL THEN 'fulfilled'
            WHEN cancel_time IS NOT NULL THEN 'cancelled, cause ' || cancel_cause
            WHEN capture_time IS NOT NULL THEN 'open, on the shelf'
            WHEN frozen THEN 'open, frozen' ELSE 'open' END AS holds, count(*)
  FROM action.hold_request GROUP BY 1 ORDER BY 1;
SELECT min(xact_start) AS "oldest circulation", max(xact_start) AS "newest",
       (SELECT min(request_time) FROM action.hold_request) AS "oldest hold request"
  FROM action.circulation;
-- What a purge must never do: age an unfinished circulation, or one with an
-- unpaid balance (bills of aged circulations stay in money.billing).
SELECT (SELECT count(*) FROM action.aged_circulation WHERE xact_finish IS NULL) AS "aged circs unfinished",
       (SELECT count(*) FROM action.aged_circulation g
         WHERE coalesce((SELECT sum(amount) FROM money.billing b WHERE b.xact = g.id AND NOT b.voided), 0)
             > coalesce((SELECT sum(amount) FROM money.payment p WHERE p.xact = g.id AND NOT p.voided), 0)) AS "aged circs owing",
       (SELECT count(DISTINCT xact) FROM money.billing b
         WHERE NOT EXISTS (SELECT 1 FROM money.billable_xact x WHERE x.id = b.xact)) AS "xacts whose bills outlive them";
SQL
}

case ${1:-} in
  load)  (( $# == 2 )) || die "usage: $0 load DB"; cmd_load "$2";;
  flags) (( $# == 2 )) || die "usage: $0 flags DB"; cmd_flags "$2";;
  data)  (( $# >= 2 )) || die "usage: $0 data DB [--circs N] [--holds M] [--patrons P] [--seed S]"; shift; cmd_data "$@";;
  purge) (( $# == 2 )) || die "usage: $0 purge DB"; cmd_purge "$2";;
  clone) (( $# == 3 )) || die "usage: $0 clone SRC DST"; cmd_clone "$2" "$3";;
  stats) (( $# == 2 )) || die "usage: $0 stats DB"; cmd_stats "$2";;
  *) echo "usage: $0 load DB | flags DB | data DB [--circs N] [--holds M] [--patrons P] [--seed S] | purge DB | clone SRC DST | stats DB" >&2
     exit 64;;
esac
