#!/usr/bin/env bash
# Makes the cluster's own CA and one certificate that every silo and client of the cluster presents (mutual TLS).
# Usage: deploy/make-certs.sh [folder]   (default: deploy/certs). Needs openssl. Keep ca.key offline.
# Files: ca.pem (trusted by every node: Groundwork:Tls:CaPath), node.pem + node.key (Groundwork:Tls:CertificatePath
# and KeyPath). The container user of the silo image (uid 1654) must be able to read node.key.
set -euo pipefail
out="${1:-$(dirname "$0")/certs}"
days="${CERT_DAYS:-825}"
command -v openssl >/dev/null || { echo "make-certs: openssl is missing (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$out"
cd "$out"
if [ ! -f ca.key ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -days "$days" -subj "/CN=Groundwork cluster CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout node.key -out node.csr \
  -subj "/CN=groundwork-node" 2>/dev/null
cat > node.ext <<'EXT'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:groundwork-node,DNS:localhost,IP:127.0.0.1
EXT
openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out node.pem -days "$days" -extfile node.ext 2>/dev/null
rm -f node.csr node.ext ca.srl
chmod 600 ca.key
chmod 644 node.key node.pem ca.pem
echo "made $out/ca.pem, $out/node.pem and $out/node.key (valid $days days)"
