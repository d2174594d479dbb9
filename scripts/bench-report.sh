#!/usr/bin/env bash
# Measures `retention report` over a year of real nightly manifests against its baseline, the
# `retention verify` of the same files (the report verifies every file as verify does, then sums
# and renders):
#   scripts/bench-report.sh [--nights N] [--repeat R]     (default 365 nights, median of 3)
# Prints seconds (median), the ratio to verify, and the size of the HTML and JSON files.
# Targets (issue 15): a report over 365 manifests in under 2 seconds and under 2 MB.
set -euo pipefail
cd "$(dirname "$0")/.."

nights=365 repeat=3
while (( $# )); do
  case $1 in
    --nights) nights=${2:?}; shift 2 ;;
    --repeat) repeat=${2:?}; shift 2 ;;
    *) echo "usage: $0 [--nights N] [--repeat R]" >&2; exit 64 ;;
  esac
done

. scripts/install-deps.sh
swift build -c release >/dev/null
retention=$(swift build -c release --show-bin-path)/retention
work=$(mktemp -d /tmp/retention-bench-report.XXXXXX)
trap 'rm -rf -- "$work"' EXIT
echo "making $nights nights of manifests ..." >&2
bash scripts/year-of-manifests.sh "$work/year" --nights "$nights" --retention "$retention" --stop >/dev/null

export RETENTION_CONFIG=/dev/null RETENTION_POLICIES=$work/year/policies
key=$work/year/keys/retention-public.pem manifests=$work/year/manifests
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
timed() {  # timed COMMAND...: median wall seconds of `repeat` runs
  for (( i = 0; i < repeat; i++ )); do
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s.%N)
    echo "$end - $start" | bc
  done | median
}
verify=$(timed "$retention" verify --public-key "$key" "$manifests")
html=$(timed "$retention" report --manifests "$manifests" --public-key "$key" --out "$work/report.html")
json=$(timed "$retention" report --manifests "$manifests" --public-key "$key" --format json --out "$work/report.json")
files=$(ls "$manifests" | wc -l)
printf '%-28s %8s %8s %10s\n' "$files manifests" seconds "x verify" bytes
printf '%-28s %8.3f %8s %10s\n' "retention verify (baseline)" "$verify" "1.00" "-"
printf '%-28s %8.3f %8.2f %10d\n' "retention report (html)" "$html" "$(echo "$html / $verify" | bc -l)" "$(stat -c %s "$work/report.html")"
printf '%-28s %8.3f %8.2f %10d\n' "retention report --format json" "$json" "$(echo "$json / $verify" | bc -l)" "$(stat -c %s "$work/report.json")"
