#!/usr/bin/env bash
# Installs the Debian package on this machine and walks docs/administrator.md's "Install" section to a first
# night, as root; then removes and purges the package and leaves the machine as it was.
#   scripts/package-test.sh [retention_X_amd64.deb]    (default: builds it with package-deb.sh)
# Checks: --version, man -w, completions, the user and group, folder modes, the key pair,
# `retention check` from / with the installed config, the unit's own command run as systemd would
# (user retention, its umask), a member of retention-readers verifying the manifest and a non-member
# refused, `dpkg -r` keeping manifests and config, `dpkg -P` keeping manifests.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ $(id -u) == 0 ]] || { echo "package-test.sh: run as root (it installs a package and adds users)" >&2; exit 77; }
for who in retention auditor; do
  if getent passwd "$who" >/dev/null; then
    echo "package-test.sh: user $who exists already; this test adds and removes it, so it runs only where it does not" >&2
    exit 78
  fi
done
[[ ! -e /etc/retention && ! -e /var/lib/retention ]] || {
  echo "package-test.sh: /etc/retention or /var/lib/retention exists already; not touching them" >&2; exit 78; }

. scripts/install-deps.sh
command -v man >/dev/null || apt-get install -y --no-upgrade man-db >/dev/null   # for `man -w`
deb=${1:-}
if [[ -z $deb ]]; then
  bash scripts/package-deb.sh --out /tmp
  deb=$(ls -t /tmp/retention_*_amd64.deb | head -n 1)
fi

pg=/tmp/retention-package-pg-$$
cleanup() {
  set +e
  dpkg -P retention >/dev/null 2>&1
  bash scripts/pg.sh stop "$pg" >/dev/null 2>&1
  userdel auditor 2>/dev/null; rm -rf /home/auditor
  userdel retention 2>/dev/null
  groupdel retention 2>/dev/null; groupdel retention-readers 2>/dev/null
  rm -rf /etc/retention /var/lib/retention
}
trap cleanup EXIT

failures=0
check() {  # check DESCRIPTION COMMAND...: runs the command, reports ok/FAIL
  local what=$1; shift
  if "$@" >/tmp/package-test-out.$$ 2>&1; then
    echo "ok    $what"
  else
    echo "FAIL  $what"; sed 's/^/      /' /tmp/package-test-out.$$; failures=$((failures + 1))
  fi
}
refused() { ! "$@"; }
mode() { stat -c '%a %U:%G' "$1"; }
is() { [[ $1 == "$2" ]] || { echo "expected '$2', found '$1'"; return 1; }; }

echo "== apt install $deb"
apt-get install -y --no-upgrade "$deb" >/tmp/package-test-apt.$$ 2>&1 || { cat /tmp/package-test-apt.$$; exit 1; }
version=$(dpkg-deb -f "$deb" Version)
check "retention --version is the package's" is "$(retention --version)" "$version"
check "the binary needs no Swift runtime library" refused sh -c "ldd /usr/bin/retention | grep -q swift"
check "man -w retention" man -w retention
check "bash completion" test -s /usr/share/bash-completion/completions/retention
check "zsh completion" test -s /usr/share/zsh/vendor-completions/_retention
check "fish completion" test -s /usr/share/fish/vendor_completions.d/retention.fish
check "systemd unit and timer" test -s /lib/systemd/system/retention.service -a -s /lib/systemd/system/retention.timer
check "manifest JSON Schema" test -s /usr/share/doc/retention/manifest.schema.json
check "the guides" test -s /usr/share/doc/retention/docs/administrator.md -a -s /usr/share/doc/retention/docs/compliance.md
check "the Evergreen policies" test -s /usr/share/doc/retention/evergreen/README.md -a -s /usr/share/doc/retention/evergreen/circulations.yaml
check "user retention, group retention-readers" sh -c "getent passwd retention && getent group retention-readers"
check "manifest folder 2750 retention:retention-readers" is "$(mode /var/lib/retention/manifests)" "2750 retention:retention-readers"
check "private key 0600 retention" is "$(stat -c '%a %U' /etc/retention/keys/retention-signing.pem)" "600 retention"
check "public key readable by all" is "$(stat -c '%a' /etc/retention/keys/retention-public.pem)" "644"
check "... in an open folder" is "$(stat -c '%a' /etc/retention/keys)" "755"
check "examples are disabled" is "$(ls /etc/retention/policies | grep -c '\.yaml\.example$')" "3"
check "conffiles" sh -c "dpkg-query --showformat='\${Conffiles}' -W retention | grep -q /etc/retention/retention.yaml"
if command -v systemd-analyze >/dev/null; then
  check "systemd-analyze verify" systemd-analyze verify /lib/systemd/system/retention.service /lib/systemd/system/retention.timer \
    /lib/systemd/system/retention-notify@.service
fi
status=0
first=$(cd / && runuser -u retention -- retention check --log-format text 2>&1) || status=$?
check "check with no policy enabled exits 78" is "$status" 78
check "... and says how to enable an example" grep -q "cp NAME.yaml.example NAME.yaml" <<<"$first"

echo "== a database for the first night"
eval "$(bash scripts/pg.sh start "$pg")"
psql -q -c 'CREATE DATABASE library'
export PGDATABASE=library
psql -q -v ON_ERROR_STOP=1 -f sql/reference-schema.sql
psql -q -v ON_ERROR_STOP=1 -v loans=2000 -f sql/demo-data.sql
retention setup --db "dbname=library"
psql -q -v ON_ERROR_STOP=1 -f /usr/share/doc/retention/examples/roles.sql
psql -q -c 'CREATE ROLE retention LOGIN IN ROLE retention_purger'

echo "== the README's first-night steps"
sed -i "s|^#db: .*|db: \"host=$PGHOST port=$PGPORT dbname=library user=retention\"|" /etc/retention/retention.yaml
(cd /etc/retention/policies && for f in *.yaml.example; do cp "$f" "${f%.example}"; done)
check "retention config shows the file's settings" sh -c \
  "cd / && runuser -u retention -- retention config | grep -Eq '^  policies +/etc/retention/policies +config file'"
check "retention check from / (policies relative to the config file)" sh -c "cd / && runuser -u retention -- retention check"
check "retention check --catalog" sh -c "cd / && runuser -u retention -- retention check --catalog"
check "retention plan" sh -c "cd / && runuser -u retention -- retention plan"

# The timer starts the unit; the unit's command runs as its user with its umask and environment.
unit=/lib/systemd/system/retention.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
umask_value=$(sed -n 's/^UMask=//p' "$unit")
user=$(sed -n 's/^User=//p' "$unit")
environment=$(sed -n 's/^Environment=//p' "$unit")
check "the unit's ExecStart runs as $user with umask $umask_value" sh -c \
  "cd / && runuser -u '$user' -- env -i PATH=/usr/bin:/bin $environment sh -c 'umask $umask_value; exec $exec_start'"
manifest=$(ls /var/lib/retention/manifests/*.manifest.json | head -n 1)
check "one manifest, 0640 retention:retention-readers" is "$(mode "$manifest")" "640 retention:retention-readers"
check "the purge happened" is "$(psql -Atc "SELECT count(*) FROM retention.runs WHERE status = 'completed'")" "1"

useradd --create-home --groups retention-readers auditor
check "a member of retention-readers verifies the manifests" sh -c \
  "cd / && runuser -u auditor -- retention verify --config /dev/null --public-key /etc/retention/keys/retention-public.pem /var/lib/retention/manifests"
check "... and with OpenSSL alone" sh -c \
  "cd / && runuser -u auditor -- sh /usr/share/doc/retention/examples/verify-manifest.sh /etc/retention/keys/retention-public.pem $manifest"
check "nobody else can read them" refused runuser -u nobody -- cat "$manifest"

echo "== dpkg -r, then dpkg -P"
dpkg -r retention >/dev/null
check "removed: no binary" refused test -e /usr/bin/retention
check "removed: manifests kept" test -s "$manifest"
check "removed: config kept" test -s /etc/retention/retention.yaml
dpkg -P retention >/dev/null
check "purged: config gone" refused test -e /etc/retention/retention.yaml
check "purged: manifests and keys kept" test -s "$manifest" -a -s /etc/retention/keys/retention-public.pem

rm -f /tmp/package-test-out.$$ /tmp/package-test-apt.$$
if (( failures )); then
  echo "package-test.sh: $failures checks failed" >&2
  exit 1
fi
echo "package-test.sh: all checks passed"
