#!/usr/bin/env bash
# Builds the Debian package retention_<version>_amd64.deb from a release build:
#   scripts/package-deb.sh [--out DIR]      (default DIR: the repository root)
# The binary links the Swift runtime statically and needs libpq5 and libcurl4 at run time (Depends from
# dpkg-shlibdeps). The package holds the hand-written man pages (docs/man, gzipped), bash/zsh/fish
# completions, the systemd unit and timer and their instance templates (retention@.service/.timer),
# /etc/retention/retention.yaml and the example policies
# (disabled) as conffiles, the Debian changelog, a machine-readable copyright (scripts/deb/copyright,
# which must name every package in .build/checkouts), md5sums and the lintian overrides; its
# postinst makes the user `retention`, the group `retention-readers`, /var/lib/retention/manifests
# and the signing key pair (scripts/deb/).
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

# -z now: the whole GOT read-only after start-up (full RELRO; lintian's hardening-no-bindnow). It
# changes only the link, so the build after another release build relinks and compiles nothing.
# The static FoundationNetworking (the time-stamping authority's request) links -lcurl: the linker
# finds libcurl.so.4 of the runtime package through a link of that name, since the -dev package
# would upgrade an installed libcurl4 to its own version.
curl_link=$(mktemp -d /tmp/retention-curl.XXXXXX)
ln -s "$(ldconfig -p | sed -n 's/^\s*libcurl\.so\.4 (libc6,x86-64) => //p' | head -n 1)" "$curl_link/libcurl.so"
swift build -c release --static-swift-stdlib --product retention -Xlinker -z -Xlinker now -Xlinker -L"$curl_link"
rm -rf -- "$curl_link"
bin=$(swift build -c release --show-bin-path)/retention
if ldd "$bin" | grep -q libswift; then
  echo "package-deb.sh: $bin links the Swift runtime dynamically" >&2; exit 1
fi
version=$("$bin" --version)

# The changelog's newest entry is this version: a new version needs its entry first.
changelog_version=$(sed -n '1s/^retention (\([^)]*\)).*/\1/p' scripts/deb/changelog)
if [[ $changelog_version != "$version" ]]; then
  echo "package-deb.sh: scripts/deb/changelog's newest entry is $changelog_version, the binary is $version: add an entry" >&2
  exit 1
fi
# The copyright file covers every package linked into the binary.
for checkout in .build/checkouts/*/; do
  if ! grep -q "^ *\(Files: \)\?${checkout%/}/\*" scripts/deb/copyright; then
    echo "package-deb.sh: scripts/deb/copyright does not name ${checkout%/} (add its licence)" >&2
    exit 1
  fi
done

stage=$(mktemp -d /tmp/retention-deb.XXXXXX)
trap 'rm -rf -- "$stage"' EXIT
root=$stage/retention_${version}_amd64

install -D -m 0755 "$bin" "$root/usr/bin/retention"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/retention"
install -d "$root/usr/share/man/man1"
for page in docs/man/*.1; do
  gzip -9n <"$page" >"$root/usr/share/man/man1/$(basename "$page").gz"
done

install -d "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
           "$root/usr/share/fish/vendor_completions.d"
# bash-completion sources the file: no interpreter line (lintian: bash-completion-with-hashbang).
"$bin" --generate-completion-script bash | sed '1{/^#!/d}' >"$root/usr/share/bash-completion/completions/retention"
"$bin" --generate-completion-script zsh >"$root/usr/share/zsh/vendor-completions/_retention"
"$bin" --generate-completion-script fish >"$root/usr/share/fish/vendor_completions.d/retention.fish"

install -D -m 0644 scripts/retention.service "$root/lib/systemd/system/retention.service"
install -D -m 0644 scripts/retention.timer "$root/lib/systemd/system/retention.timer"
install -D -m 0644 scripts/retention-notify@.service "$root/lib/systemd/system/retention-notify@.service"
# The templates of the other instances (one database each): retention@NAME reads /etc/retention/NAME.yaml.
install -D -m 0644 scripts/retention@.service "$root/lib/systemd/system/retention@.service"
install -D -m 0644 scripts/retention@.timer "$root/lib/systemd/system/retention@.timer"

# Configuration: the settings, and the shipped policies as disabled examples.
install -D -m 0644 scripts/deb/retention.yaml "$root/etc/retention/retention.yaml"
install -d -m 0755 "$root/etc/retention/policies"
for policy in policies/*.yaml; do
  name=$(basename "$policy")
  {
    echo "# An example policy, disabled: retention reads only the *.yaml files of this folder."
    echo "# Adapt its table and columns to your database (the format: /usr/share/doc/retention/policies.md.gz),"
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
install -m 0644 scripts/deb/copyright "$doc/copyright"
# A native package's changelog is changelog.gz (Debian policy 12.7).
gzip -9n <scripts/deb/changelog >"$doc/changelog.gz"
# The guides compressed as dh_compress would (text over 4 KiB); the examples and the schema stay as
# they are, since the guides name them as paths to run or read.
find "$doc" -name '*.md' -size +4k -exec gzip -9n {} +
install -D -m 0644 scripts/deb/lintian-overrides "$root/usr/share/lintian/overrides/retention"
chmod -R u=rwX,go=rX "$root/usr/share"

install -d "$root/DEBIAN"
# The shared libraries the binary needs, each from the version on that has every function the
# binary calls (dpkg-shlibdeps reads the libraries' symbols files, as debhelper's ${shlibs:Depends}:
# libpq5 (>= 9.3~) with libpq 15 here).
shlibs=$(mktemp -d /tmp/retention-shlibs.XXXXXX)
mkdir "$shlibs/debian"
printf 'Source: retention\n\nPackage: retention\nArchitecture: amd64\n' >"$shlibs/debian/control"
depends=$(cd "$shlibs" && dpkg-shlibdeps -O "$root/usr/bin/retention" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
rm -rf -- "$shlibs"
[[ $depends == *libpq5* ]] || { echo "package-deb.sh: dpkg-shlibdeps found no libpq5 dependency ($depends)" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" scripts/deb/control >"$root/DEBIAN/control"
install -m 0755 scripts/deb/postinst scripts/deb/prerm scripts/deb/postrm "$root/DEBIAN/"
(cd "$root" && find etc -type f | sed 's|^|/|' | sort) >"$root/DEBIAN/conffiles"
# md5sums of every file but the conffiles (dpkg keeps theirs itself), as dh_md5sums writes them.
(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' | sort -z |
  xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/conffiles" "$root/DEBIAN/control"

deb=$out/retention_${version}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "package-deb.sh: $deb ($(du -h "$deb" | cut -f1))"
