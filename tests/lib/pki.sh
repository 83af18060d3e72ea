# pki.sh — a throwaway PKI for tests of berthd's TLS listener: EC P-256
# keys, certificates valid for two days, openssl's chatter in
# $PKI/openssl.log. Sourced with PKI set to an existing directory.
mkdir -p "$PKI"
ssl() { openssl "$@" 2>>"$PKI/openssl.log"; }
new_ca() {  # new_ca NAME CN
  ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=$2" \
    -keyout "$PKI/$1.key" -out "$PKI/$1.crt"
}
new_cert() {  # new_cert NAME CA CN[/OU=ROLE[/O=PROJECT...]]|/SUBJECT EXTENSIONS
  local subj="/CN=$3"
  [ "${3:0:1}" = / ] && subj=$3
  ssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$subj" \
    -keyout "$PKI/$1.key" -out "$PKI/$1.csr"
  printf '%b\n' "$4" > "$PKI/$1.ext"
  ssl x509 -req -days 2 -in "$PKI/$1.csr" -CA "$PKI/$2.crt" -CAkey "$PKI/$2.key" -CAcreateserial \
    -extfile "$PKI/$1.ext" -out "$PKI/$1.crt"
}
