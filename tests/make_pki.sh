#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Makes a throw-away test CA and the virtual card's certificate (EF.CERT).
set -eu
dir=${1:?directory}
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -keyout test-ca.key -out test-ca.pem -subj "/C=TR/O=nesbridge TEST/CN=nesbridge Test CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout card.key -out card.csr \
    -subj "/C=TR/O=nesbridge TEST/serialNumber=NB0000000001/CN=TEST KART SAHIBI" 2>/dev/null
openssl x509 -req -in card.csr -CA test-ca.pem -CAkey test-ca.key -CAcreateserial -days 3650 \
    -outform DER -out card-cert.der 2>/dev/null
rm -f card.csr
chmod 600 test-ca.key card.key
