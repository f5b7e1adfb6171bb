#!/usr/bin/env bash
# make-certs.sh: a local CA and a serving certificate for em-guard-webhook, for development
# and tests (production uses cert-manager or your own PKI).
#
#   certs-dev/make-certs.sh [--service NAME] [--namespace NS] [--out DIR] [--days N] [--new-ca]
#
# Writes ca.crt, ca.key, tls.crt, tls.key into DIR (default certs-dev/out, git-ignored); keys
# are mode 0600. The CA is kept across runs (so a caBundle already installed stays valid)
# unless --new-ca is given; the serving certificate is made anew each run. The certificate is
# valid for NAME.NS.svc (what the API server dials), NAME.NS.svc.cluster.local, NAME.NS,
# NAME, localhost and 127.0.0.1. The last line printed is the base64 caBundle for the
# ValidatingWebhookConfiguration.
set -euo pipefail

service=em-guard-webhook
namespace=em-guard
out="$(cd "$(dirname "$0")" && pwd)/out"
days=365
new_ca=false

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --service) service=${2:?--service needs a value}; shift 2 ;;
    --namespace) namespace=${2:?--namespace needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --days) days=${2:?--days needs a value}; shift 2 ;;
    --new-ca) new_ca=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "make-certs.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
# DNS labels: a name that is not one would make a certificate the API server never accepts.
for name in "$service" "$namespace"; do
  [[ $name =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] ||
    { echo "make-certs.sh: '$name' is not a valid Kubernetes name (RFC 1123 label)" >&2; exit 2; }
done
[[ $days =~ ^[1-9][0-9]{0,4}$ ]] || { echo "make-certs.sh: --days must be 1..99999" >&2; exit 2; }
command -v openssl >/dev/null || { echo "make-certs.sh: openssl is not installed" >&2; exit 1; }

mkdir -p "$out"
chmod 700 "$out"
cd "$out"
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if $new_ca || [ ! -s ca.crt ] || [ ! -s ca.key ]; then
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout ca.key -out ca.crt -days "$days" -subj "/CN=em-guard development CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$work/err" ||
    { cat "$work/err" >&2; exit 1; }
  echo "make-certs.sh: created a new CA in $out/ca.crt" >&2
fi

cat >"$work/ext.cnf" <<CNF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:${service}.${namespace}.svc, DNS:${service}.${namespace}.svc.cluster.local, DNS:${service}.${namespace}, DNS:${service}, DNS:localhost, IP:127.0.0.1
CNF
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
  -keyout "$work/tls.key" -out "$work/tls.csr" -subj "/CN=${service}.${namespace}.svc" \
  2>"$work/err" || { cat "$work/err" >&2; exit 1; }
openssl x509 -req -in "$work/tls.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
  -CAserial "$work/ca.srl" -out "$work/tls.crt" -days "$days" -sha256 -extfile "$work/ext.cnf" \
  2>"$work/err" || { cat "$work/err" >&2; exit 1; }
openssl verify -CAfile ca.crt "$work/tls.crt" >/dev/null 2>"$work/err" ||
  { echo "make-certs.sh: the new certificate does not verify against ca.crt:" >&2; cat "$work/err" >&2; exit 1; }
# Replace the pair together, each by rename, so a server watching the files never reads a
# certificate with the other run's key for long.
mv -f "$work/tls.key" tls.key
mv -f "$work/tls.crt" tls.crt
chmod 600 ca.key tls.key
chmod 644 ca.crt tls.crt

echo "make-certs.sh: wrote $out/tls.crt for ${service}.${namespace}.svc (valid $days days)" >&2
openssl base64 -A -in ca.crt
echo
