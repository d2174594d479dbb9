#!/usr/bin/env bash
# Builds the Debian package retention_<version>_amd64.deb from a release build:
#   scripts/package-deb.sh [--out DIR]      (default DIR: the repository root)
# The binary links the Swift runtime statically and needs only libpq5 at run time. The package
# holds the man page (swift-argument-parser's generate-manual plugin, dated by the last commit),
# bash/zsh/fish completions, the systemd unit and timer, /etc/retention/retention.yaml and the
# example policies (disabled) as conffiles; its postinst makes the user `retention`, the group
# `retention-readers`, /var/lib/retention/manifests and the signing key pair (scripts/deb/).
set -euo pipefail
cd "$(dirname "$0")/.."

out=$PWD
while (( $# )); do
  case $1 in
    --out) out=$(cd "${2:?--out needs a folder}" && pwd); shift 2 ;;
    *) echo "usage: $0 [--out DIR]" >&2; exit 64 ;;
  esac
done

. scripts/install-deps.sh   # sourced: keeps its PATH fix for swift

# The man page first, from the same command definitions as --help: the plugin builds its own
# release products (without --static-swift-stdlib), which the static build below then replaces.
# A pinned date makes the man page the same for the same sources.
date=$(git log -1 --format=%cs 2>/dev/null || echo 2026-01-01)
swift package plugin generate-manual --date "$date" >/dev/null
manual=.build/plugins/GenerateManual/outputs/retention/retention.1
[[ -s $manual ]] || { echo "package-deb.sh: generate-manual wrote no $manual" >&2; exit 1; }

swift build -c release --static-swift-stdlib --product retention
bin=$(swift build -c release --show-bin-path)/retention
if ldd "$bin" | grep -q libswift; then
  echo "package-deb.sh: $bin links the Swift runtime dynamically" >&2; exit 1
fi
version=$("$bin" --version)

stage=$(mktemp -d /tmp/retention-deb.XXXXXX)
trap 'rm -rf -- "$stage"' EXIT
root=$stage/retention_${version}_amd64

install -D -m 0755 "$bin" "$root/usr/bin/retention"
strip --strip-unneeded "$root/usr/bin/retention"
install -d "$root/usr/share/man/man1"
gzip -9n <"$manual" >"$root/usr/share/man/man1/retention.1.gz"

install -d "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
           "$root/usr/share/fish/vendor_completions.d"
"$bin" --generate-completion-script bash >"$root/usr/share/bash-completion/completions/retention"
"$bin" --generate-completion-script zsh >"$root/usr/share/zsh/vendor-completions/_retention"
"$bin" --generate-completion-script fish >"$root/usr/share/fish/vendor_completions.d/retention.fish"

install -D -m 0644 scripts/retention.service "$root/lib/systemd/system/retention.service"
install -D -m 0644 scripts/retention.timer "$root/lib/systemd/system/retention.timer"
install -D -m 0644 scripts/retention-notify@.service "$root/lib/systemd/system/retention-notify@.service"

# Configuration: the settings, and the shipped policies as disabled examples.
install -D -m 0644 scripts/deb/retention.yaml "$root/etc/retention/retention.yaml"
install -d -m 0755 "$root/etc/retention/policies"
for policy in policies/*.yaml; do
  name=$(basename "$policy")
  {
    echo "# An example policy, disabled: retention reads only the *.yaml files of this folder."
    echo "# Adapt its table and columns to your database (the format: /usr/share/doc/retention/policies.md),"
    echo "# then enable it:  cp $name.example $name && retention check --catalog"
    echo
    cat "$policy"
  } >"$root/etc/retention/policies/$name.example"
  chmod 0644 "$root/etc/retention/policies/$name.example"
done

doc=$root/usr/share/doc/retention
install -D -m 0644 README.md "$doc/README.md"
install -D -m 0644 policies/README.md "$doc/policies.md"
# The Evergreen policies, beside policies.md as its link expects: examples to copy and adapt.
for file in policies/evergreen/*; do install -D -m 0644 "$file" "$doc/evergreen/$(basename "$file")"; done
for guide in docs/*.md; do install -D -m 0644 "$guide" "$doc/$guide"; done
install -D -m 0644 scripts/retention.cron "$doc/examples/retention.cron"
install -D -m 0644 sql/roles.sql "$doc/examples/roles.sql"
install -D -m 0644 scripts/retention.rules.yml "$doc/examples/retention.rules.yml"
install -D -m 0755 scripts/verify-manifest.sh "$doc/examples/verify-manifest.sh"
"$bin" show --schema >"$doc/manifest.schema.json"
cat >"$doc/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: retention
Files: *
Copyright: retention maintainers
License: Apache-2.0
 On Debian systems, the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
EOF

install -d "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" scripts/deb/control >"$root/DEBIAN/control"
install -m 0755 scripts/deb/postinst scripts/deb/prerm scripts/deb/postrm "$root/DEBIAN/"
(cd "$root" && find etc -type f | sed 's|^|/|' | sort) >"$root/DEBIAN/conffiles"

deb=$out/retention_${version}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "package-deb.sh: $deb ($(du -h "$deb" | cut -f1))"
