#!/usr/bin/env bash
# Installs the Debian package on this machine and walks docs/administrator.md's "Install" section to a first
# night, as root; upgrades it over itself; then removes and purges the package and leaves the machine as it was.
#   scripts/package-test.sh [retention_X_amd64.deb]    (default: builds it with package-deb.sh)
# Checks: lintian (scripts/lintian.sh), `promtool check rules` and `test rules` on the shipped alert
# rules, `mandoc -Tlint` on every man page and `man -w` finding each,
# --version, completions, the user and group, folder modes, the key pair (root's folder and public
# key), the units (no [Install] on the service, the retries), `retention check` from / with the
# installed config, the unit's own command run as systemd would (user retention, its umask), a member
# of retention-readers verifying the manifest and a non-member refused; a reinstall and an upgrade
# keeping an edited conffile, changed modes, the keys and an enabled timer, and honouring
# dpkg-statoverride; a second instance (`north`, its own database, config file, manifest folder and
# chain) beside the default one: the template units verified, its unit's command run as systemd
# would, `status --all-instances` seeing both; `dpkg -r` keeping manifests and config, `dpkg -P`
# leaving exactly the list in docs/administrator.md ("Removing the package").
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
# man-db for `man -w`, mandoc for -Tlint, prometheus for promtool; only where missing, and only when installing them upgrades
# nothing already installed (an "Inst NAME [old version]" line in apt's dry run is an upgrade).
for tool in man:man-db mandoc:mandoc promtool:prometheus; do
  command -v "${tool%%:*}" >/dev/null && continue
  if apt-get install -s -q --no-upgrade "${tool#*:}" 2>/dev/null | grep -q '^Inst [^ ]* \['; then
    echo "package-test.sh: installing ${tool#*:} would upgrade installed packages: its checks fail below" >&2
  else
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-upgrade --no-install-recommends "${tool#*:}" >/dev/null
  fi
done
deb=${1:-}
if [[ -z $deb ]]; then
  bash scripts/package-deb.sh --out /tmp
  deb=$(ls -t /tmp/retention_*_amd64.deb | head -n 1)
fi

pg=/tmp/retention-package-pg-$$
work=$(mktemp -d /tmp/retention-package-test.XXXXXX)
# The metrics file's folder, made by this test only where node-exporter's is missing.
made_prometheus=
[[ -e /var/lib/prometheus ]] || made_prometheus=1
cleanup() {
  set +e
  dpkg -P retention >/dev/null 2>&1
  dpkg-statoverride --remove /etc/retention/keys >/dev/null 2>&1
  rm -f /etc/systemd/system/timers.target.wants/retention.timer /etc/systemd/system/multi-user.target.wants/retention.service \
        /etc/systemd/system/timers.target.wants/retention@north.timer
  rm -rf "$work"
  [[ -z $made_prometheus ]] || rm -rf /var/lib/prometheus
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

echo "== lintian"
check "lintian: no error, no warning without an override" bash scripts/lintian.sh "$deb"

echo "== apt install $deb"
apt-get install -y --no-upgrade "$deb" >/tmp/package-test-apt.$$ 2>&1 || { cat /tmp/package-test-apt.$$; exit 1; }
# The shipped alert rules, as Prometheus reads them, and their unit tests (scripts/retention.rules.test.yml:
# three nights stopped with rows overdue, a failed night, a good one).
rules=/usr/share/doc/retention/examples/retention.rules.yml
check "promtool check rules (the shipped file)" promtool check rules "$rules"
check "promtool test rules: each alert fires when it should and not before" sh -c \
  "d=\$(mktemp -d) && cp $rules scripts/retention.rules.test.yml \$d/ && cd \$d && promtool test rules retention.rules.test.yml; r=\$?; rm -rf \$d; exit \$r"
version=$(dpkg-deb -f "$deb" Version)
check "retention --version is the package's" is "$(retention --version)" "$version"
check "the binary needs no Swift runtime library" refused sh -c "ldd /usr/bin/retention | grep -q swift"
for page in docs/man/*.1; do
  name=$(basename "$page" .1)
  check "man -w $name" man -w "$name"
  # -Tlint, less its notes on this machine's man page index (cross-references it cannot look up).
  check "mandoc -Tlint $name" sh -c "! mandoc -Tlint /usr/share/man/man1/$name.1.gz 2>&1 |
    grep -v -e 'referenced manual not found' -e 'mandoc.db' | grep ."
done
# The pages are written by hand: every command has one, holding every option of its --help (and of
# its subcommands'); the common options are in retention(1).
subcommands() { "$@" --help | awk '/^SUBCOMMANDS:/ {on = 1; next} on && /^  [a-z]/ {print $1}'; }
man_gaps=$(
  for command in $(subcommands retention); do
    page=docs/man/retention-$command.1
    [[ -f $page ]] || { echo "no man page $page for retention $command"; continue; }
    helps=$(retention "$command" --help; for sub in $(subcommands retention "$command"); do retention "$command" "$sub" --help; done)
    for option in $(grep -oE '^ +--[a-z-]+' <<<"$helps" | sed 's/^ *--//' | sort -u); do
      case $option in config|instance|log-format|log-level|quiet|version|help) continue ;; esac
      grep -q -- "-$option\>" "$page" || echo "$page lacks --$option"
    done
  done)
check "a man page for every command, with every option of its --help" is "$man_gaps" ""
check "the changelog, copyright and md5sums" sh -c "test -s /usr/share/doc/retention/changelog.gz &&
  grep -q '^Files: .build/checkouts/swift-crypto/\*' /usr/share/doc/retention/copyright && dpkg --verify retention"
check "bash completion" test -s /usr/share/bash-completion/completions/retention
check "zsh completion" test -s /usr/share/zsh/vendor-completions/_retention
check "fish completion" test -s /usr/share/fish/vendor_completions.d/retention.fish
check "systemd unit and timer" test -s /lib/systemd/system/retention.service -a -s /lib/systemd/system/retention.timer
check "the instances' template unit and timer" test -s /lib/systemd/system/retention@.service -a -s /lib/systemd/system/retention@.timer
check "manifest JSON Schema" test -s /usr/share/doc/retention/manifest.schema.json
check "the guides, compressed" test -s /usr/share/doc/retention/README.md.gz -a -s /usr/share/doc/retention/docs/administrator.md.gz -a -s /usr/share/doc/retention/docs/compliance.md.gz
check "the Evergreen policies" test -s /usr/share/doc/retention/evergreen/README.md.gz -a -s /usr/share/doc/retention/evergreen/circulations.yaml
check "user retention, group retention-readers" sh -c "getent passwd retention && getent group retention-readers"
check "manifest folder 2750 retention:retention-readers" is "$(mode /var/lib/retention/manifests)" "2750 retention:retention-readers"
check "private key 0600 retention" is "$(stat -c '%a %U' /etc/retention/keys/retention-signing.pem)" "600 retention"
check "public key 0644 root, readable by all" is "$(mode /etc/retention/keys/retention-public.pem)" "644 root:root"
check "... in an open folder of root's" is "$(mode /etc/retention/keys)" "755 root:root"
check "the job's user cannot replace the public key" refused runuser -u retention -- sh -c \
  "cp /etc/retention/keys/retention-signing.pem /etc/retention/keys/retention-public.pem ||
   mv /etc/retention/keys/retention-signing.pem /etc/retention/keys/retention-public.pem ||
   touch /etc/retention/keys/new.pem"
check "examples are disabled" is "$(ls /etc/retention/policies | grep -c '\.yaml\.example$')" "3"
# Every file of the package a config file, a unit or an example names is there (the guides are gzipped).
named=$(grep -ohE '/usr/share/doc/retention/[A-Za-z0-9/._-]*[A-Za-z0-9]' /etc/retention/retention.yaml \
  /etc/retention/policies/*.example /lib/systemd/system/retention* | sort -u)
check "the paths the config files and units name exist" sh -c "for path in $(echo $named); do test -e \$path || { echo \$path; exit 1; }; done"
check "conffiles" sh -c "dpkg-query --showformat='\${Conffiles}' -W retention | grep -q /etc/retention/retention.yaml"
if command -v systemd-analyze >/dev/null; then
  check "systemd-analyze verify" systemd-analyze verify /lib/systemd/system/retention.service /lib/systemd/system/retention.timer \
    /lib/systemd/system/retention-notify@.service
fi
service=/lib/systemd/system/retention.service
check "the purge service cannot be enabled (no [Install])" refused grep -q '^\[Install\]' "$service"
check "the timer is what is enabled" grep -q '^WantedBy=timers.target' /lib/systemd/system/retention.timer
check "69 is retried" sh -c "grep -q '^Restart=on-failure' $service && grep -q '^RestartSec=' $service &&
  grep -q '^StartLimitBurst=' $service && ! grep '^RestartPreventExitStatus=' $service | grep -qw 69"
check "1, 64, 65, 77, 78 are not" sh -c "for code in 1 64 65 77 78; do
  grep '^RestartPreventExitStatus=' $service | grep -qw \$code || exit 1; done"
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

echo "== a second instance: north, its own database (docs/administrator.md, \"Several databases\")"
psql -q -c 'CREATE DATABASE north'
PGDATABASE=north psql -q -v ON_ERROR_STOP=1 -f sql/reference-schema.sql
PGDATABASE=north psql -q -v ON_ERROR_STOP=1 -v loans=500 -f sql/demo-data.sql
sed -e 's/dbname=library/dbname=north/' -e 's|^manifests: .*|manifests: /var/lib/retention/manifests/north|' \
    -e 's|/retention.prom|/retention-north.prom|' /etc/retention/retention.yaml >/etc/retention/north.yaml
install -d -o retention -g retention-readers -m 2750 /var/lib/retention/manifests/north
# As the database's owner, with the instance's settings but the owner's connection (the default
# instance's manifest folder holds another database's chain: setup there is refused, 78).
retention setup --instance north --db "dbname=north"
PGDATABASE=north psql -q -v ON_ERROR_STOP=1 -f /usr/share/doc/retention/examples/roles.sql
# The templates as systemd reads them: an instance of each, under its own name, beside the notify unit.
units=$work/units; mkdir -p "$units"
ln -s /lib/systemd/system/retention@.service "$units/retention@north.service"
ln -s /lib/systemd/system/retention@.timer "$units/retention@north.timer"
if command -v systemd-analyze >/dev/null; then
  check "systemd-analyze verify retention@north.service and .timer (the templates)" \
    systemd-analyze verify "$units/retention@north.service" "$units/retention@north.timer"
fi
template=/lib/systemd/system/retention@.service
check "the template runs its instance, and writes its own manifest folder only" sh -c \
  "grep -qx 'ExecStart=/usr/bin/retention run --instance %i' $template &&
   grep -qx 'ReadWritePaths=-/var/lib/retention/manifests/%i' $template && ! grep -qx 'ReadWritePaths=/var/lib/retention/manifests' $template"
check "the template has the default unit's sandbox, retries and alarm" is \
  "$(grep -E '^(Protect|Private|Restrict|NoNew|Lock|Memory|SystemCall|Capability|UMask|User|Group|Restart|StartLimit|OnFailure|Success|Timeout|Kill)' $template)" \
  "$(grep -E '^(Protect|Private|Restrict|NoNew|Lock|Memory|SystemCall|Capability|UMask|User|Group|Restart|StartLimit|OnFailure|Success|Timeout|Kill)' $unit)"
check "the instance's timer is what is enabled" grep -q '^WantedBy=timers.target' /lib/systemd/system/retention@.timer
check "retention config --instance north reads /etc/retention/north.yaml" sh -c \
  "cd / && runuser -u retention -- retention config --instance north | grep -q '^Config file: /etc/retention/north.yaml (--instance north)'"
check "retention check --catalog --instance north" sh -c "cd / && runuser -u retention -- retention check --catalog --instance north"
status=0; runuser -u retention -- retention check --instance south --log-format text >/dev/null 2>&1 || status=$?
check "an instance without a config file: 78" is "$status" 78
north_exec=$(sed -n 's/^ExecStart=//p' "$template" | sed 's/%i/north/g')
check "retention@north's ExecStart runs as $user with umask $umask_value" sh -c \
  "cd / && runuser -u '$user' -- env -i PATH=/usr/bin:/bin sh -c 'umask $umask_value; exec $north_exec'"
north_manifest=$(ls /var/lib/retention/manifests/north/*.manifest.json | head -n 1)
check "north: its manifest in its own folder, 0640 retention:retention-readers" is "$(mode "$north_manifest")" "640 retention:retention-readers"
check "north: its own chain, from sequence 1, and the default's untouched" sh -c \
  "ls /var/lib/retention/manifests/north/*.manifest.json | wc -l | grep -qx 1 && test \"\$(ls /var/lib/retention/manifests/*.manifest.json)\" = '$manifest' &&
   case $north_manifest in *-000001.manifest.json) ;; *) exit 1 ;; esac"
check "north: its database purged, the default's ledger unchanged" is \
  "$(PGDATABASE=north psql -Atc "SELECT count(*) FROM retention.runs WHERE status = 'completed'") $(psql -Atc 'SELECT count(*) FROM retention.runs')" "1 1"
check "north: a member of retention-readers verifies its chain" sh -c \
  "cd / && runuser -u auditor -- retention verify --config /dev/null --public-key /etc/retention/keys/retention-public.pem /var/lib/retention/manifests/north"
check "north: verify --ledger --instance north (its folder against its database)" sh -c \
  "cd / && runuser -u retention -- retention verify --instance north --ledger /var/lib/retention/manifests/north"
all_status=0
all=$(cd / && runuser -u retention -- retention status --all-instances 2>/dev/null) || all_status=$?
check "status --all-instances: a section for each instance, the default first" sh -c \
  "printf '%s\n' \"\$1\" | grep '^== ' | tr '\n' ' ' | grep -qx '== retention (/etc/retention/retention.yaml) == north (/etc/retention/north.yaml) '" sh "$all"
check "status --all-instances: both OK after their nights, exit 0" is "$all_status $(head -n 2 <<<"$all" | tail -n 1)" "0 instances:    retention OK, north OK"
check "status --all-instances --json: an object per instance" is \
  "$(cd / && runuser -u retention -- retention status --all-instances --json 2>/dev/null |
     python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["level"], *[(i["instance"], i["level"], i["last_run"]["status"]) for i in d["instances"]])')" \
  "ok ('retention', 'ok', 'completed') ('north', 'ok', 'completed')"

echo "== reinstall and upgrade over itself"
# The administrator's changes: an edited conffile, the manifests folder's mode, an enabled timer
# (systemctl enable works without a running systemd: it makes the symlink); and the earlier
# package's keys layout, which the reinstall moves to root's once.
echo "# a local edit the upgrade keeps" >>/etc/retention/retention.yaml
conffile=$(sha256sum /etc/retention/retention.yaml)
keys=$(sha256sum /etc/retention/keys/*.pem)
chmod 2770 /var/lib/retention/manifests
systemctl enable retention.timer >/dev/null 2>&1
chown retention:retention /etc/retention/keys /etc/retention/keys/retention-public.pem
systemctl enable retention@north.timer >/dev/null 2>&1
mkdir -p /etc/systemd/system/multi-user.target.wants
ln -s /lib/systemd/system/retention.service /etc/systemd/system/multi-user.target.wants/retention.service
dpkg -i "$deb" >/tmp/package-test-apt.$$ 2>&1 || { cat /tmp/package-test-apt.$$; exit 1; }
check "reinstalled: a purge service enabled at boot (earlier packages) is no longer" \
  refused test -e /etc/systemd/system/multi-user.target.wants/retention.service
check "reinstalled: the earlier keys layout moved to root's" is \
  "$(mode /etc/retention/keys) $(mode /etc/retention/keys/retention-public.pem)" "755 root:root 644 root:root"
# The same package with a higher version: dpkg runs the upgrade path (prerm upgrade, postinst configure OLD).
dpkg-deb -R "$deb" "$work/next"
sed -i "s/^Version: .*/Version: $version+upgrade1/" "$work/next/DEBIAN/control"
dpkg-deb --root-owner-group -Znone --build "$work/next" "$work/next.deb" >/dev/null
dpkg-statoverride --add root retention 0750 /etc/retention/keys
dpkg -i "$work/next.deb" >/tmp/package-test-apt.$$ 2>&1 || { cat /tmp/package-test-apt.$$; exit 1; }
check "upgraded to $version+upgrade1" is "$(dpkg-query -W -f='${Version}' retention)" "$version+upgrade1"
check "upgraded: the edited conffile kept" is "$(sha256sum /etc/retention/retention.yaml)" "$conffile"
check "... with no .dpkg-dist beside it" refused sh -c "ls /etc/retention/*.dpkg-* 2>/dev/null | grep ."
check "upgraded: the manifests folder's mode kept" is "$(mode /var/lib/retention/manifests)" "2770 retention:retention-readers"
check "upgraded: dpkg-statoverride applied to the keys folder" is "$(mode /etc/retention/keys)" "750 root:retention"
check "upgraded: the key pair unchanged" is "$(sha256sum /etc/retention/keys/*.pem)" "$keys"
check "upgraded: the timer still enabled" test -L /etc/systemd/system/timers.target.wants/retention.timer
check "upgraded: the enabled policies kept" test -s /etc/retention/policies/loan-history.yaml
check "upgraded: the instance's config file and its enabled timer kept" \
  test -s /etc/retention/north.yaml -a -L /etc/systemd/system/timers.target.wants/retention@north.timer
check "upgraded: a run still works" sh -c \
  "cd / && runuser -u '$user' -- env -i PATH=/usr/bin:/bin $environment sh -c 'umask $umask_value; exec $exec_start'"
dpkg-statoverride --remove /etc/retention/keys
chmod 2750 /var/lib/retention/manifests

echo "== dpkg -r, then dpkg -P"
# What purge removes besides the conffiles: the job's password file and the metrics file.
install -m 0600 -o retention -g retention /dev/null /var/lib/retention/.pgpass
metrics=/var/lib/prometheus/node-exporter/retention.prom
if [[ -n $made_prometheus ]]; then
  install -d /var/lib/prometheus/node-exporter
  echo 'retention_last_run_timestamp_seconds 1' >"$metrics"
fi
dpkg -r retention >/dev/null
check "removed: no binary" refused test -e /usr/bin/retention
check "removed: manifests kept" test -s "$manifest"
check "removed: config kept" test -s /etc/retention/retention.yaml
dpkg -P retention >/dev/null
check "purged: config gone" refused test -e /etc/retention/retention.yaml
check "purged: the instance's config file and its timer's link gone" refused \
  sh -c "test -e /etc/retention/north.yaml || test -L /etc/systemd/system/timers.target.wants/retention@north.timer"
check "purged: the instance's manifests kept" test -s "$north_manifest"
check "purged: ~retention/.pgpass gone" refused test -e /var/lib/retention/.pgpass
if [[ -n $made_prometheus ]]; then
  check "purged: the metrics file gone" refused test -e "$metrics"
  rm -rf /var/lib/prometheus
fi
check "purged: user retention and group retention-readers kept" sh -c "getent passwd retention && getent group retention-readers"
# What is left, against the list in docs/administrator.md: folders with a slash, manifests as a glob.
documented=$(awk '/exactly these remain/ {found = 1} found && /^```text/ {inside = 1; next} inside && /^```/ {exit} inside' \
  docs/administrator.md)
left=$( { find /etc/retention /var/lib/retention -type d -printf '%p/\n'
          find /etc/retention /var/lib/retention ! -type d -print; } |
        sed -e 's|^/var/lib/retention/manifests/[^/]*\.manifest\.json$|/var/lib/retention/manifests/*.manifest.json|' \
            -e 's|^/var/lib/retention/manifests/[^/]*/[^/]*\.manifest\.json$|/var/lib/retention/manifests/*/*.manifest.json|' \
            -e 's|^/var/lib/retention/manifests/[^/]*/$|/var/lib/retention/manifests/*/|' | sort -u)
check "purged: what is left is what docs/administrator.md says" is "$left" "$(sort -u <<<"$documented")"
check "... and that list is there" test -n "$documented"

rm -f /tmp/package-test-out.$$ /tmp/package-test-apt.$$
if (( failures )); then
  echo "package-test.sh: $failures checks failed" >&2
  exit 1
fi
echo "package-test.sh: all checks passed"
