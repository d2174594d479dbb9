#!/usr/bin/env bash
# A throwaway time-stamping authority for tests and the walkthrough: a CA, a TSA certificate it
# signs (extended key usage timeStamping, critical, as RFC 3161 asks) and an `openssl ts` config.
#   scripts/tsa/make-test-tsa.sh DIR [rsa|ec]
# Writes DIR/ca.pem (what `tsa_ca` names), DIR/tsa.pem, DIR/tsa.key, DIR/tsa.cnf. Never use it for
# real evidence: its keys sit unprotected in DIR.
set -euo pipefail
dir=$(realpath -m -- "${1:?usage: $0 DIR [rsa|ec]}")
kind=${2:-rsa}
mkdir -p "$dir"
cd "$dir"
case $kind in
  rsa) key=(-newkey rsa:2048) ;;
  ec) key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
  *) echo "make-test-tsa.sh: key kind must be rsa or ec" >&2; exit 64 ;;
esac
openssl req -x509 "${key[@]}" -nodes -keyout ca.key -out ca.pem -days 3650 -subj "/CN=retention test TSA CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req "${key[@]}" -nodes -keyout tsa.key -out tsa.csr -subj "/CN=retention test TSA" 2>/dev/null
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=critical,timeStamping" "subjectKeyIdentifier=hash" > tsa.ext
openssl x509 -req -in tsa.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out tsa.pem -days 3650 -extfile tsa.ext 2>/dev/null
rm -f tsa.csr tsa.ext
echo 01 > serial
cat > tsa.cnf <<CNF
[ tsa ]
default_tsa = test_tsa
[ test_tsa ]
dir = $dir
serial = \$dir/serial
crypto_device = builtin
signer_cert = \$dir/tsa.pem
certs = \$dir/ca.pem
signer_key = \$dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
other_policies = 1.3.6.1.4.1.99999.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
