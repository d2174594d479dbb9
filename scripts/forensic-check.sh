#!/usr/bin/env bash
# Counts copies of byte strings in a table's files: heap, TOAST and every index, all segments.
#   scripts/forensic-check.sh SCHEMA.TABLE STRING...
# Run on the database server as a user that can read the data directory (root or postgres), with
# psql reaching the database as a superuser (PGHOST, PGDATABASE, ... as for psql). It checkpoints
# first, so what the server holds in memory is in the files. Prints one line per file and string
# with the number of copies found; exits 1 when any string was found, 0 when none was.
# An auditor can use it to check what `retention run` and `retention run --erase` leave behind.
set -euo pipefail

if (( $# < 2 )); then
  echo "usage: $0 SCHEMA.TABLE STRING..." >&2
  exit 64
fi
table=$1; shift

psql_q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
psql_q -c 'CHECKPOINT' >/dev/null
datadir=$(psql_q -c "SHOW data_directory")
# The table, its TOAST table and TOAST index, and its indexes: kind and file path.
files=$(psql_q -F ' ' -v table="$table" <<'SQL'
WITH t AS (SELECT :'table'::regclass AS oid)
SELECT 'heap', pg_relation_filepath(t.oid) FROM t
UNION ALL
SELECT 'toast', pg_relation_filepath(c.reltoastrelid) FROM pg_class c, t WHERE c.oid = t.oid AND c.reltoastrelid <> 0
UNION ALL
SELECT 'toast-index', pg_relation_filepath(i.indexrelid)
FROM pg_class c JOIN pg_index i ON i.indrelid = c.reltoastrelid, t WHERE c.oid = t.oid
UNION ALL
SELECT 'index:' || i.indexrelid::regclass, pg_relation_filepath(i.indexrelid) FROM pg_index i, t WHERE i.indrelid = t.oid;
SQL
)

needles=$(mktemp)
trap 'rm -f "$needles"' EXIT
printf '%s\n' "$@" >"$needles"

found=0
while read -r kind path; do
  [[ -n $path ]] || continue
  # One pass per file: every occurrence of any string, counted per string.
  counts=$(for segment in "$datadir/$path" "$datadir/$path".[0-9]*; do
             if [[ -f $segment ]]; then grep -a -o -F -f "$needles" "$segment" || true; fi
           done | sort | uniq -c)
  # Each string with its count (0 when absent): the counts first, then the list of strings.
  awk -v kind="$kind" -v path="$path" '
    NR == FNR { n = $1; sub(/^ *[0-9]+ /, ""); count[$0] = n; next }
    { printf "%s\t%s\t%d copies of %s\n", kind, path, count[$0] + 0, $0 }' \
    <(printf '%s\n' "$counts") "$needles"
  [[ -z $counts ]] || found=1
done <<<"$files"
exit "$found"
