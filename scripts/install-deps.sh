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
  libcurl4                        # FoundationNetworking's HTTP (the time-stamping authority's request)
  openssl                         # manifest verification without this program
  bc time python3                 # scripts/bench.sh and batch-size.sh: arithmetic, peak memory, plan JSON
  python3-jsonschema              # the tests check real manifests against the manifest JSON Schema
  faketime                        # the report's tests: a year of nights on a server whose clock moves
)
# PostgreSQL extensions the tests use when present: pg_repack (run --erase) and pg_dirtyread
# (reading dead tuples). Optional: they are skipped when installing one would upgrade a package
# that is already installed (Debian's security build of pg_repack requires the newest server; an
# upgrade under a running server broke its plpgsql loading).
# The report's browser check (headless Chromium, pdftotext) is optional on the same terms.
deps_optional=("postgresql-$deps_pg_major-repack" "postgresql-$deps_pg_major-dirtyread" "postgresql-$deps_pg_major-partman"
               chromium poppler-utils)
# PL/Perl for the Evergreen comparison (scripts/evergreen.sh loads Evergreen's schema, whose
# functions are plperlu), pinned to the installed server's version: the newest
# postgresql-plperl-NN requires, and so would upgrade, the server. Skipped when that exact
# version is not in the apt sources.
deps_pg_version=$(dpkg-query -W -f='${Version}' "postgresql-$deps_pg_major" 2>/dev/null || true)
if [[ -n $deps_pg_version ]]; then
  deps_optional+=("postgresql-plperl-$deps_pg_major=$deps_pg_version")
fi

# Swift is not packaged by Debian; these machines have it in /opt/swift.
if ! command -v swift >/dev/null && [[ -x /opt/swift/usr/bin/swift ]]; then
  export PATH=/opt/swift/usr/bin:$PATH
fi
if ! command -v swift >/dev/null; then
  echo "install-deps.sh: swift is not on PATH (nor in /opt/swift/usr/bin); install a Swift 6 toolchain" >&2
  exit 1
fi

deps_missing=()
deps_optional_missing=()
for deps_p in "${deps_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$deps_p" 2>/dev/null | grep -q 'ok installed' ||
    deps_missing+=("$deps_p")
done
for deps_p in "${deps_optional[@]}"; do
  # A pinned entry (name=version) counts as present when the package is installed at all.
  dpkg-query -W -f='${Status}' "${deps_p%%=*}" 2>/dev/null | grep -q 'ok installed' ||
    deps_optional_missing+=("$deps_p")
done

if (( ${#deps_missing[@]} + ${#deps_optional_missing[@]} )); then
  if [[ $(id -u) != 0 ]]; then
    echo "install-deps.sh: missing packages; as root run:" >&2
    echo "apt-get update && apt-get install -y --no-install-recommends --no-upgrade ${deps_missing[*]} ${deps_optional_missing[*]}" >&2
    (( ${#deps_missing[@]} )) && exit 1
    echo "install-deps.sh: (${deps_optional_missing[*]} are optional; the tests that need them are skipped)" >&2
  else
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    # Install only what is missing and never upgrade what is installed: an apt "Inst" line with
    # [old version] in a dry run is an upgrade.
    for deps_p in "${deps_optional_missing[@]}"; do
      deps_upgrades=$(apt-get install -s -q --no-install-recommends --no-upgrade "$deps_p" 2>/dev/null |
                      awk '/^Inst [^ ]+ \[/ {print $2}' | tr '\n' ' ')
      if [[ -n $deps_upgrades ]]; then
        echo "install-deps.sh: skipping optional $deps_p: it would upgrade installed $deps_upgrades" >&2
      elif [[ $deps_p == *=* ]]; then
        # apt-cache show ignores a version it does not have; madison lists the ones it has.
        if apt-cache madison "${deps_p%%=*}" 2>/dev/null | awk -F'|' -v v="${deps_p#*=}" '{gsub(/ /, "", $2)} $2 == v {f = 1} END {exit !f}'; then
          deps_missing+=("$deps_p")
        else
          echo "install-deps.sh: skipping optional $deps_p: that version is not in the apt sources" >&2
        fi
      elif apt-cache show "$deps_p" >/dev/null 2>&1; then
        deps_missing+=("$deps_p")
      fi
    done
    if (( ${#deps_missing[@]} )); then
      echo "install-deps.sh: installing ${deps_missing[*]}" >&2
      apt-get install -y -q --no-install-recommends --no-upgrade "${deps_missing[@]}" >&2
    fi
  fi
fi
