#!/usr/bin/env bash
# Makes the cluster's own CA and one certificate that every silo and client of the cluster presents (mutual TLS).
# Usage: deploy/make-certs.sh [certs-folder] [ca-folder]   (defaults: deploy/certs and deploy/ca)
# certs-folder is what docker-compose.yml mounts into the silos: ca.pem (Groundwork:Tls:CaPath), node.pem and
# node.key (Groundwork:Tls:CertificatePath and KeyPath). The CA's private key goes to ca-folder, which is never
# mounted: keep it offline once the certificates are made. Run again to renew node.pem with the same CA.
# node.key is readable by its owner and by group 1654 (the silo image's "app" user; GROUNDWORK_KEY_GID overrides);
# giving it that group needs root, so without root it is left readable by every local user, and the script says so.
set -euo pipefail
out="${1:-$(dirname "$0")/certs}"
ca="${2:-$(dirname "$0")/ca}"
days="${CERT_DAYS:-825}"
gid="${GROUNDWORK_KEY_GID:-1654}"
command -v openssl >/dev/null || { echo "make-certs: openssl is missing (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$out" "$ca"
chmod 700 "$ca"
if [ -f "$out/ca.key" ] && [ ! -f "$ca/ca.key" ]; then
  # An earlier version kept the CA key beside the mounted files: move it out, and keep signing with the same CA.
  mv "$out/ca.key" "$ca/ca.key"
  cp "$out/ca.pem" "$ca/ca.pem"
  echo "make-certs: moved the CA key from $out (mounted into every silo) to $ca; the CA stays the same" >&2
elif [ -f "$out/ca.key" ]; then
  echo "make-certs: $out/ca.key should not be there (the folder is mounted into every silo) and $ca/ca.key exists too: remove one after checking which CA signed $out/node.pem" >&2
  exit 1
fi
if [ ! -f "$ca/ca.key" ]; then
  (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$ca/ca.key" -out "$ca/ca.pem" \
    -days "$days" -subj "/CN=Groundwork cluster CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null)
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(umask 077 && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/node.key" -out "$work/node.csr" \
  -subj "/CN=groundwork-node" 2>/dev/null)
cat > "$work/node.ext" <<'EXT'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:groundwork-node,DNS:localhost,IP:127.0.0.1
EXT
openssl x509 -req -in "$work/node.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -CAcreateserial -CAserial "$work/ca.srl" \
  -out "$work/node.pem" -days "$days" -extfile "$work/node.ext" 2>/dev/null
cp "$ca/ca.pem" "$out/ca.pem"
mv "$work/node.pem" "$out/node.pem"
mv "$work/node.key" "$out/node.key"
chmod 644 "$out/ca.pem" "$out/node.pem"
if [ "$(id -u)" = 0 ]; then
  chgrp "$gid" "$out/node.key"
  chmod 640 "$out/node.key"
else
  chmod 644 "$out/node.key"
  echo "make-certs: not root, so $out/node.key is readable by every local user (the silo container, uid $gid, must read it); run with sudo to restrict it to group $gid" >&2
fi
echo "made $out/ca.pem, $out/node.pem and $out/node.key (valid $days days); the CA key is $ca/ca.key: keep it offline"
