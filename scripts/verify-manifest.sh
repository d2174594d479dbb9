#!/bin/sh
# Verifies the signature of a retention manifest with OpenSSL 3 alone, without retention.
#   scripts/verify-manifest.sh PUBLIC_KEY.pem MANIFEST.json [TSA_CA.pem]
# Exits 0 and prints one line when the first signature verifies; exits 1 otherwise.
# With TSA_CA.pem (the time-stamping authority's CA, `tsa_ca`), it also checks the RFC 3161 token
# beside the manifest (MANIFEST.tsr for MANIFEST.json) with `openssl ts -verify`: signed by that
# authority, over exactly these bytes; it prints the token's time ("Timestamp: OK, <time>").
#
# It rebuilds the DSSE pre-authentication encoding
#   "DSSEv1" SP LEN(payloadType) SP payloadType SP LEN(payload) SP payload
# (lengths in bytes) and checks the Ed25519 signature over it.
#
# Assumption: the envelope is as retention writes it, canonical JSON (RFC 8785) on one
# line: members in the order payload, payloadType, signatures, no whitespace, and a
# payloadType without escapes. That is what lets sed stand in for a JSON parser.
# This checks one signature only; `retention verify` also checks the chain of manifests.
set -eu

if [ "$#" -ne 2 ] && [ "$#" -ne 3 ]; then
    echo "usage: $0 PUBLIC_KEY.pem MANIFEST.json [TSA_CA.pem]" >&2
    exit 1
fi
public_key=$1
manifest=$2
tsa_ca=${3:-}
token=${manifest%.json}.tsr
for file in "$public_key" "$manifest" ${tsa_ca:+"$tsa_ca" "$token"}; do
    if [ ! -r "$file" ]; then
        echo "Signature Verification Failure: cannot read $file" >&2
        exit 1
    fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

envelope='^{"payload":"\([A-Za-z0-9+/=]*\)","payloadType":"\([^"\\]*\)","signatures":\[{"keyid":"[^"]*","sig":"\([A-Za-z0-9+/=]*\)"}.*]}$'
payload=$(sed -n "1s/$envelope/\\1/p" "$manifest")
payload_type=$(sed -n "1s/$envelope/\\2/p" "$manifest")
signature=$(sed -n "1s/$envelope/\\3/p" "$manifest")
if [ -z "$payload" ] || [ -z "$payload_type" ] || [ -z "$signature" ]; then
    echo "Signature Verification Failure: $manifest is not a canonical DSSE envelope" >&2
    exit 1
fi

printf '%s' "$payload" | base64 -d >"$tmp/payload" 2>/dev/null || {
    echo "Signature Verification Failure: bad base64 payload in $manifest" >&2
    exit 1
}
printf '%s' "$signature" | base64 -d >"$tmp/sig" 2>/dev/null || {
    echo "Signature Verification Failure: bad base64 signature in $manifest" >&2
    exit 1
}
# wc pads its count with spaces on some systems.
type_length=$(printf '%s' "$payload_type" | wc -c | tr -d ' ')
payload_length=$(wc -c <"$tmp/payload" | tr -d ' ')
{
    printf 'DSSEv1 %s %s %s ' "$type_length" "$payload_type" "$payload_length"
    cat "$tmp/payload"
} >"$tmp/pae"

# -rawin needs the message in a file: OpenSSL 3 cannot read it from stdin ("-in -").
if openssl pkeyutl -verify -pubin -inkey "$public_key" -rawin -in "$tmp/pae" -sigfile "$tmp/sig" >"$tmp/out" 2>&1; then
    echo "Signature Verified Successfully: $manifest ($payload_type)"
else
    echo "Signature Verification Failure: $manifest" >&2
    exit 1
fi

[ -n "$tsa_ca" ] || exit 0
# The token's certificate is checked at the time it names: an authority's certificate that expired
# since still vouches for the tokens it signed while valid.
stamped=$(openssl ts -reply -in "$token" -text 2>/dev/null | sed -n 's/^Time stamp: //p')
if [ -z "$stamped" ]; then
    echo "Timestamp Verification Failure: $token is not a time-stamp response" >&2
    exit 1
fi
at=$(date -u -d "$stamped" +%s 2>/dev/null || echo)
if openssl ts -verify -data "$manifest" -in "$token" -CAfile "$tsa_ca" ${at:+-attime "$at"} >"$tmp/ts" 2>&1; then
    echo "Timestamp: OK, $stamped"
else
    echo "Timestamp Verification Failure: $token does not verify against $tsa_ca for $manifest" >&2
    exit 1
fi
