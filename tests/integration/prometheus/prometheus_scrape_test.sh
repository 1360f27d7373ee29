#!/usr/bin/env bash
# A real Prometheus server scrapes a real epc-extender that a real (simulated) fleet reports into;
# the test then asks Prometheus, through PromQL over its HTTP API, for EPC series and compares them
# with what the extender's /metrics serves. Also runs `promtool check metrics` on the exposition.
#
# usage: prometheus_scrape_test.sh EPC_EXTENDER EPC_DEMO
set -euo pipefail
extender_bin=$1
demo_bin=$2

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$work"/*.log; do echo "--- $f"; tail -20 "$f"; done >&2; exit 1; }

# --- the extender on ephemeral ports ------------------------------------------------------------
"$extender_bin" --http-port 0 --grpc-address 127.0.0.1:0 >"$work/extender.log" 2>&1 &
pids+=($!)
http_port= grpc_port=
for _ in $(seq 100); do
  http_port=$(sed -n 's/.*http listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/extender.log")
  grpc_port=$(sed -n 's/.*grpc listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/extender.log")
  [ -n "$http_port" ] && [ -n "$grpc_port" ] && break
  sleep 0.1
done
[ -n "$http_port" ] && [ -n "$grpc_port" ] || fail "extender did not report its ports"

# --- real reports and real scheduling traffic ---------------------------------------------------
"$demo_bin" --http "127.0.0.1:$http_port" --grpc "127.0.0.1:$grpc_port" --short --seed 11 \
  >"$work/demo.log" 2>&1 || fail "epc-demo failed"

metrics_url="http://127.0.0.1:$http_port/metrics"
curl -fsS "$metrics_url" >"$work/metrics.txt" || fail "GET /metrics failed"
promtool check metrics <"$work/metrics.txt" >"$work/promtool.log" 2>&1 || fail "promtool rejects the exposition"

# --- a real Prometheus ----------------------------------------------------------------------------
# A free port: ask the kernel for one and let it go again right away.
prom_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: epc-extender
    static_configs:
      - targets: ["127.0.0.1:$http_port"]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)

query() {  # prints the single sample value of an instant query, or nothing
  curl -fsS --get "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
    sed -n 's/.*"value":\[[0-9.]*,"\([^"]*\)"\].*/\1/p'
}
served() {  # the value the extender itself serves for an exact series line prefix
  grep -F "$1 " "$work/metrics.txt" | head -1 | awk '{print $2}'
}

# Wait (bounded) until Prometheus has scraped the target at least once.
for _ in $(seq 150); do
  [ "$(query 'up{job="epc-extender"}')" = "1" ] && break
  sleep 0.2
done
[ "$(query 'up{job="epc-extender"}')" = "1" ] || fail "Prometheus never scraped the extender"

checked=0
for node in sgx-xeon-64g sgx-xeon-e-512m sgx-nuc-93m-a; do
  for metric in epc_node_capacity_bytes epc_node_free_bytes epc_node_requested_bytes; do
    want=$(served "$metric{node=\"$node\"}")
    [ -n "$want" ] || fail "extender serves no $metric for $node"
    got=$(query "$metric{node=\"$node\"}")
    # Prometheus prints floats; our values are whole bytes.
    [ "$(printf '%.0f' "$got")" = "$(printf '%.0f' "$want")" ] ||
      fail "$metric{node=$node}: Prometheus has '$got', extender serves '$want'"
    checked=$((checked + 1))
  done
done

# The cluster total equals the sum of the per-node free EPC of nodes that are up, through PromQL.
sum_free=$(query 'sum(epc_node_free_bytes * on(node) epc_node_up)')
cluster_free=$(query 'epc_cluster_free_bytes')
[ -n "$sum_free" ] && [ "$(printf '%.0f' "$sum_free")" = "$(printf '%.0f' "$cluster_free")" ] ||
  fail "sum of node free EPC ($sum_free) != epc_cluster_free_bytes ($cluster_free)"

# Every filter the demo sent was counted.
filters=$(query 'epc_extender_requests_total{verb="filter",outcome="ok"}')
demo_pods=$(sed -n 's/^Summary: pods \([0-9]*\),.*/\1/p' "$work/demo.log")
[ -n "$demo_pods" ] && [ "$(printf '%.0f' "$filters")" = "$demo_pods" ] ||
  fail "filter requests in Prometheus ($filters) != pods the demo scheduled ($demo_pods)"

echo "prometheus scrape test: $checked per-node series, cluster sum and request counter agree"
echo "1 passed, 0 failed"
