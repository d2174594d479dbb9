#!/usr/bin/env bash
# End-to-end demo on synthetic data in a throwaway PostgreSQL:
#   scripts/demo.sh [--loans N] [--keep] [--debug]
#     --loans N  scale of sql/demo-data.sql (default 20000)
#     --keep     leave the server, keys and manifests in place at the end
#     --debug    use a debug build instead of a release build
set -euo pipefail
cd "$(dirname "$0")/.."

loans=20000 keep=false config=release
while (( $# )); do
  case $1 in
    --loans) [[ ${2:-} =~ ^[0-9]+$ ]] || { echo "demo.sh: --loans needs a number" >&2; exit 64; }
             loans=$2; shift 2 ;;
    --keep)  keep=true; shift ;;
    --debug) config=debug; shift ;;
    *) echo "usage: $0 [--loans N] [--keep] [--debug]" >&2; exit 64 ;;
  esac
done

. scripts/install-deps.sh   # sourced: keeps its PATH fix for swift

# Everything the demo makes lives in one new folder: pg/ (the server),
# keys/ and manifests/.
work=/tmp/retention-demo-$$
mkdir -p "$work/keys" "$work/manifests"
cleanup() {
  if $keep; then
    echo "demo.sh: kept $work" >&2
    echo "  connect: . $work/pg/env && PGDATABASE=retention_demo psql" >&2
    echo "  stop:    scripts/pg.sh stop $work/pg && rm -r $work" >&2
  else
    bash scripts/pg.sh stop "$work/pg" && rm -rf -- "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

header() { printf '\n==> %s\n' "$*"; }

header "swift build -c $config"
swift build -c "$config"
retention=$(swift build -c "$config" --show-bin-path)/retention

header "throwaway PostgreSQL in $work/pg"
eval "$(bash scripts/pg.sh start "$work/pg")"
psql -q -c 'CREATE DATABASE retention_demo'
export PGDATABASE=retention_demo

header "reference schema and demo data ($loans loans)"
psql -q -v ON_ERROR_STOP=1 -f sql/reference-schema.sql
psql -q -v ON_ERROR_STOP=1 -v loans="$loans" -f sql/demo-data.sql

export RETENTION_POLICIES=policies
export RETENTION_MANIFESTS=$work/manifests

step() {  # step ARGS...: print a header, run `retention ARGS...`
  header "retention $*"
  "$retention" "$@"
}

step setup
step check
step check --catalog

header "retention keygen --out $work/keys"
"$retention" keygen --out "$work/keys"
export RETENTION_SIGNING_KEY=$work/keys/retention-signing.pem
export RETENTION_PUBLIC_KEY=$work/keys/retention-public.pem

step plan
step run
step plan

step verify --ledger "$RETENTION_MANIFESTS"
manifest=$(ls "$RETENTION_MANIFESTS"/*.manifest.json | head -n 1)
step show "$manifest"

step report --out "$work/report.html"

header "the same manifest verified with OpenSSL alone (scripts/verify-manifest.sh)"
sh scripts/verify-manifest.sh "$RETENTION_PUBLIC_KEY" "$manifest"

header "manifests"
ls -l "$RETENTION_MANIFESTS"
