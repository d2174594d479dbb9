#!/usr/bin/env bash
# Runs `swift test` against a throwaway PostgreSQL (the CI entry point).
#   scripts/test.sh [swift test arguments...]     e.g. --filter PlanTests
# The tests find the server through PGHOST/PGPORT/PGUSER, and can restart it
# with `scripts/pg.sh restart` (RETENTION_PG_DIR names its folder).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/install-deps.sh   # sourced: keeps its PATH fix for swift

export RETENTION_PG_DIR=/tmp/retention-test-pg-$$
trap 'bash scripts/pg.sh stop "$RETENTION_PG_DIR"' EXIT
trap 'exit 130' INT     # so that the EXIT trap runs on ^C and kill, too
trap 'exit 143' TERM
eval "$(bash scripts/pg.sh start "$RETENTION_PG_DIR")"

status=0
swift test "$@" || status=$?
exit "$status"
