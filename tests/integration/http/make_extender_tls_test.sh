#!/usr/bin/env bash
# scripts/make-extender-tls makes files the shipped manifests can run on: a real epc-extender serves
# both of its ports with them, and OpenSSL's client verifies each port the way its real client
# would (kube-scheduler by 127.0.0.1, a device plugin by the report Service's name, Prometheus by the
# metrics Service's name); a re-issue from the same CA is trusted as before; a foreign CA is not;
# --print gives the Secret and ConfigMap the manifests mount; bad arguments are refused.
#
# usage: make_extender_tls_test.sh SOURCE_ROOT EPC_EXTENDER EPCCTL
set -uo pipefail
root="$1"
extender="$2"
epcctl="$3"
script="$root/scripts/make-extender-tls"
work="$(mktemp -d)"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
failed=0
check() {  # check WHAT COMMAND...: COMMAND must succeed
  local what="$1"; shift
  if "$@" >"$work/out" 2>&1; then echo "ok   $what"; else echo "FAIL $what"; sed 's/^/     /' "$work/out"; failed=1; fi
}
refuse() {  # refuse WHAT COMMAND...: COMMAND must fail
  local what="$1"; shift
  if "$@" >"$work/out" 2>&1; then echo "FAIL $what (it succeeded)"; failed=1; else echo "ok   $what"; fi
}

check "makes a CA and a server certificate" "$script" --out "$work/a"
for f in ca.crt ca.key tls.crt tls.key; do check "writes $f" test -s "$work/a/$f"; done
check "the keys are the owner's only" test "$(stat -c %a "$work/a/tls.key") $(stat -c %a "$work/a/ca.key")" = "600 600"
check "the CA signed the certificate" openssl verify -CAfile "$work/a/ca.crt" "$work/a/tls.crt"
check "it is for servers" sh -c "openssl x509 -in '$work/a/tls.crt' -noout -ext extendedKeyUsage | grep -q 'TLS Web Server Authentication'"
for name in epc-extender-reports.sgx-system.svc.cluster.local epc-extender-reports.sgx-system.svc \
            epc-extender-metrics.sgx-system.svc localhost; do
  check "it names $name" sh -c "openssl x509 -in '$work/a/tls.crt' -noout -checkhost $name | grep -q 'does match'"
done
for ip in 127.0.0.1 ::1; do
  check "it names $ip" sh -c "openssl x509 -in '$work/a/tls.crt' -noout -checkip $ip | grep -q 'does match'"
done
check "it does not name another namespace's Service" sh -c \
  "openssl x509 -in '$work/a/tls.crt' -noout -checkhost epc-extender-reports.kube-system.svc | grep -q 'does NOT match'"
check "--namespace kube-system names the variant's Service" "$script" --out "$work/k" --namespace kube-system
check "  epc-extender-reports.kube-system.svc.cluster.local" sh -c \
  "openssl x509 -in '$work/k/tls.crt' -noout -checkhost epc-extender-reports.kube-system.svc.cluster.local | grep -q 'does match'"

# A re-issue from the same CA: a new certificate, trusted by what trusts the old CA.
check "--ca-dir signs with the existing CA" "$script" --out "$work/b" --ca-dir "$work/a"
check "  the new certificate verifies against the old ca.crt" openssl verify -CAfile "$work/a/ca.crt" "$work/b/tls.crt"
check "  and is a new one" sh -c "! cmp -s '$work/a/tls.crt' '$work/b/tls.crt'"
check "  the CA's key is not copied" test ! -e "$work/b/ca.key"
refuse "a foreign CA does not verify it" openssl verify -CAfile "$work/k/ca.crt" "$work/a/tls.crt"

# The manifests' objects.
check "--print gives the Secret and the ConfigMap" sh -c "'$script' --out '$work/p' --print >'$work/p.yaml'"
check "  Secret sgx-system/epc-extender-tls of type kubernetes.io/tls" sh -c \
  "grep -q '^kind: Secret' '$work/p.yaml' && grep -q '^  name: epc-extender-tls' '$work/p.yaml' && grep -q '^type: kubernetes.io/tls' '$work/p.yaml'"
for key in tls.crt tls.key ca.crt; do
  check "  its $key is the file's" sh -c \
    "sed -n 's/^  $key: //p' '$work/p.yaml' | head -1 | base64 -d | cmp -s - '$work/p/$key'"
done
check "  ConfigMap sgx-system/epc-extender-ca holds the CA and no key" sh -c \
  "sed -n '/^kind: ConfigMap/,\$p' '$work/p.yaml' >'$work/cm' && grep -q '^  name: epc-extender-ca' '$work/cm' &&
   sed -n '/^  ca.crt: |/,\$p' '$work/cm' | sed -n 's/^    //p' | cmp -s - '$work/p/ca.crt' && ! grep -q 'PRIVATE KEY' '$work/cm'"

refuse "no --out is refused" "$script"
refuse "a bad namespace is refused" "$script" --out "$work/x" --namespace "Not_A_Name"
refuse "bad --days is refused" "$script" --out "$work/x" --days 0
refuse "an unknown argument is refused" "$script" --out "$work/x" --bogus
refuse "--ca-dir without a CA is refused" "$script" --out "$work/x" --ca-dir "$work/nothing"

# A real extender on the files: HTTPS and the TLS report port, as the Deployment runs it.
"$extender" --http-port=0 --http-tls-cert-file="$work/a/tls.crt" --http-tls-key-file="$work/a/tls.key" \
  --grpc-address=127.0.0.1:0 --grpc-tls-cert-file="$work/a/tls.crt" \
  --grpc-tls-key-file="$work/a/tls.key" >"$work/extender.log" 2>&1 &
pid=$!
http_port="" grpc_port=""
for _ in $(seq 100); do
  http_port="$(sed -n 's/^epc-extender: http listening on 127.0.0.1:\([0-9]*\) (HTTPS.*/\1/p' "$work/extender.log")"
  grpc_port="$(sed -n 's/^epc-extender: grpc listening on 127.0.0.1:\([0-9]*\) (TLS.*/\1/p' "$work/extender.log")"
  [[ -n "$http_port" && -n "$grpc_port" ]] && break
  sleep 0.1
done
if [[ -z "$http_port" || -z "$grpc_port" ]]; then
  echo "FAIL the extender did not start on the files:"; sed 's/^/     /' "$work/extender.log"; exit 1
fi
client() {  # client PORT CA VERIFY-ARGS...: a verified TLS connection, one HTTP/1.1 request
  local port="$1" ca="$2"; shift 2
  printf 'GET /healthz HTTP/1.1\r\nHost: epc\r\nConnection: close\r\n\r\n' |
    openssl s_client -connect "127.0.0.1:$port" -CAfile "$ca" -verify_return_error -quiet "$@"
}
check "kube-scheduler's view: HTTPS verified for 127.0.0.1, /healthz 200" sh -c \
  "$(declare -f client); client $http_port '$work/a/ca.crt' -verify_ip 127.0.0.1 2>/dev/null | head -1 | grep -q '^HTTP/1.1 200'"
check "Prometheus's view: HTTPS verified for epc-extender-metrics.sgx-system.svc" sh -c \
  "$(declare -f client); client $http_port '$work/a/ca.crt' -servername epc-extender-metrics.sgx-system.svc -verify_hostname epc-extender-metrics.sgx-system.svc 2>/dev/null | head -1 | grep -q '^HTTP/1.1 200'"
check "a plugin's view: the report port verified for epc-extender-reports.sgx-system.svc.cluster.local" sh -c \
  "openssl s_client -connect 127.0.0.1:$grpc_port -CAfile '$work/a/ca.crt' -verify_return_error -alpn h2 \
     -servername epc-extender-reports.sgx-system.svc.cluster.local \
     -verify_hostname epc-extender-reports.sgx-system.svc.cluster.local </dev/null 2>&1 | grep -q 'Verify return code: 0 (ok)'"
refuse "a client trusting another CA is refused the handshake" sh -c \
  "$(declare -f client); client $http_port '$work/k/ca.crt' -verify_ip 127.0.0.1"
refuse "a plugin dialing another namespace's name is refused" sh -c \
  "openssl s_client -connect 127.0.0.1:$grpc_port -CAfile '$work/a/ca.crt' -verify_return_error -alpn h2 \
     -verify_hostname epc-extender-reports.kube-system.svc.cluster.local </dev/null"
check "epcctl capacity over HTTPS with --ca-file" sh -c \
  "'$epcctl' capacity --extender 127.0.0.1:$http_port --ca-file '$work/a/ca.crt' --epc 64Mi | grep -q 64Mi"
refuse "epcctl with another CA is refused" "$epcctl" capacity --extender "127.0.0.1:$http_port" --ca-file "$work/k/ca.crt"
refuse "epcctl in plain text to the HTTPS port gets no answer" "$epcctl" capacity --extender "127.0.0.1:$http_port"
check "the extender is still up" kill -0 "$pid"

if [[ $failed -ne 0 ]]; then echo "make_extender_tls_test: FAILED"; exit 1; fi
echo "make_extender_tls_test: all passed"
