#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test retention,
# and checks that swift is on PATH. apt-get runs only when a package is
# missing. Run it, or source it (scripts/test.sh and scripts/demo.sh do) so
# that the PATH fix for swift also applies to the caller.
set -euo pipefail

# Debian 12 ships PostgreSQL 15; the extension packages carry that number.
deps_pg_major=${PG_MAJOR:-15}
deps_packages=(
  postgresql postgresql-contrib   # server and client, for the throwaway databases
  libpq-dev pkg-config            # CLibPQ: libpq-fe.h, pkg-config libpq
  openssl                         # manifest verification without this program
  bc time                         # scripts/bench.sh and batch-size.sh: arithmetic, peak memory
)
# PostgreSQL extensions the tests use when present:
# pg_repack (run --erase) and pg_dirtyread (reading dead tuples).
deps_packages+=("postgresql-$deps_pg_major-repack" "postgresql-$deps_pg_major-dirtyread")

# Swift is not packaged by Debian; these machines have it in /opt/swift.
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
  export PATH=/opt/swift/usr/bin:$PATH
fi
if ! command -v swift >/dev/null; then
  echo "install-deps.sh: swift is not on PATH (nor in /opt/swift/usr/bin); install a Swift 6 toolchain" >&2
  exit 1
fi

deps_missing=()
for deps_p in "${deps_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$deps_p" 2>/dev/null | grep -q 'ok installed' ||
    deps_missing+=("$deps_p")
done

if (( ${#deps_missing[@]} )); then
  if [[ $(id -u) != 0 ]]; then
    echo "install-deps.sh: missing packages; as root run:" >&2
    echo "apt-get update && apt-get install -y --no-install-recommends ${deps_missing[*]}" >&2
    exit 1
  fi
  echo "install-deps.sh: installing ${deps_missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends "${deps_missing[@]}" >&2
fi
