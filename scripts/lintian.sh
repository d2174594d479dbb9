#!/usr/bin/env bash
# Runs lintian on a .deb and fails on any error or warning it does not have an override for:
#   scripts/lintian.sh retention_X_amd64.deb
# Prints every tag (info and pedantic too, for the record). lintian is installed with apt-get
# --no-upgrade when that upgrades nothing already installed; otherwise (on Debian 12, lintian's
# Perl modules require a newer perl point release than some images have, and upgrading perl under
# a running PostgreSQL with PL/Perl is not this script's call) the packages it would add are
# downloaded with `apt-get download` and unpacked into a private folder, and lintian runs from
# there with the installed perl. Needs root for apt-get only.
set -euo pipefail

deb=${1:?usage: $0 retention_X_amd64.deb}
deb=$(realpath "$deb")

lintian=(lintian)
if ! command -v lintian >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  [[ -n $(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit) ]] || apt-get update -q >&2
  plan=$(apt-get install -s -q --no-install-recommends --no-upgrade lintian 2>/dev/null)
  if ! grep -q '^Inst [^ ]* \[' <<<"$plan"; then
    apt-get install -y -q --no-install-recommends --no-upgrade lintian >&2
  else
    private=${LINTIAN_PRIVATE:-/tmp/retention-lintian}
    if [[ ! -x $private/root/usr/share/lintian/bin/lintian ]]; then
      echo "lintian.sh: installing lintian would upgrade $(awk '/^Inst [^ ]+ \[/ {print $2}' <<<"$plan" | tr '\n' ' ')- unpacking it into $private instead" >&2
      rm -rf "$private"
      mkdir -p "$private/debs" "$private/root"
      # The packages the install would add (new ones only, never the upgrades).
      mapfile -t new < <(awk '/^Inst / && $3 !~ /^\[/ {print $2}' <<<"$plan")
      (cd "$private/debs" && apt-get download -q "${new[@]}" >&2)
      for package in "$private"/debs/*.deb; do dpkg-deb -x "$package" "$private/root"; done
    fi
    root=$private/root
    export PERL5LIB=$root/usr/share/perl5:$root/usr/lib/x86_64-linux-gnu/perl5/5.36${PERL5LIB:+:$PERL5LIB}
    export LD_LIBRARY_PATH=$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export PATH=$root/usr/bin:$PATH
    lintian=(perl "$root/usr/share/lintian/bin/lintian")
  fi
fi

out=$(mktemp)
trap 'rm -f -- "$out"' EXIT
# --fail-on none: a non-zero exit is lintian itself failing, not a tag; the tags are read below.
# (lintian warns when run as root; what it finds does not depend on who runs it.)
status=0
"${lintian[@]}" --fail-on none --display-info --pedantic "$deb" >"$out" 2>&1 || status=$?
grep -v 'running with root privileges is not recommended' "$out" || true
if (( status )); then
  echo "lintian.sh: lintian failed (exit $status)" >&2
  exit 1
fi
if grep -Eq '^[EW]: ' "$out"; then
  echo "lintian.sh: $(grep -Ec '^E: ' "$out") errors and $(grep -Ec '^W: ' "$out") warnings without an override" >&2
  exit 1
fi
echo "lintian.sh: no error and no warning ($(grep -Ec '^[IP]: ' "$out") info and pedantic tags)"
