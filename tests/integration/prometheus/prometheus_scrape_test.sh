#!/usr/bin/env bash
# A real Prometheus server scrapes a real epc-extender and the real epc-device-plugin processes that
# report into it (epc-demo --plugins: one plugin per node on a fake SGX root, with kubelet
# stand-ins); the test then asks Prometheus, through PromQL over its HTTP API, for EPC series and
# compares them with what the extender's and the plugins' /metrics serve. Also runs
# `promtool check metrics` on both expositions.
#
# With RULES_DIR (dashboards/rules), Prometheus also loads every rule file there: each rule must
# evaluate without error on the live series, and the recorded cluster figures must equal what the
# extender serves (free EPC) and a count done here from /metrics (placeable 64Mi pods).
#
# With DASHBOARDS_DIR (dashboards/grafana) too, every PromQL expression of every dashboard runs
# against this Prometheus (query_dashboards.py).
#
# usage: prometheus_scrape_test.sh EPC_EXTENDER EPC_DEMO EPC_DEVICE_PLUGIN [RULES_DIR [DASHBOARDS_DIR]]
set -euo pipefail
extender_bin=$1
demo_bin=$2
plugin_bin=$3
rules_dir=${4:-}
dashboards_dir=${5:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$work"/*.log; do echo "--- $f"; tail -20 "$f"; done >&2; exit 1; }

# Sanitizer builds are slower (tests/support/time_scale.h): the bounded waits below stretch by it.
scale="${EPC_TEST_TIME_SCALE:-1}"
scale="${scale%%.*}"
[[ "$scale" =~ ^[1-9][0-9]?$ ]] || scale=1

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
# The demo schedules its pods, prints every plugin's /metrics URL and keeps the fleet running.
"$demo_bin" --http "127.0.0.1:$http_port" --grpc "127.0.0.1:$grpc_port" --short --seed 11 \
  --plugins "$plugin_bin" --linger >"$work/demo.log" 2>&1 &
demo_pid=$!
pids+=("$demo_pid")
for _ in $(seq $((600 * scale))); do
  grep -q '^epc-demo: lingering' "$work/demo.log" && break
  kill -0 "$demo_pid" 2>/dev/null || fail "epc-demo exited before lingering"
  sleep 0.1
done
grep -q '^epc-demo: lingering' "$work/demo.log" || fail "epc-demo did not finish its run in $((60 * scale)) s"
mapfile -t plugin_ports < <(sed -n 's|^  http://127\.0\.0\.1:\([0-9][0-9]*\)/metrics .*|\1|p' "$work/demo.log")
[ "${#plugin_ports[@]}" -ge 2 ] || fail "epc-demo printed ${#plugin_ports[@]} plugin /metrics URLs"

metrics_url="http://127.0.0.1:$http_port/metrics"
curl -fsS "$metrics_url" >"$work/metrics.txt" || fail "GET /metrics failed"
promtool check metrics <"$work/metrics.txt" >"$work/promtool.log" 2>&1 || fail "promtool rejects the exposition"
curl -fsS "http://127.0.0.1:${plugin_ports[0]}/metrics" >"$work/plugin-metrics.txt" ||
  fail "GET /metrics of the first device plugin failed"
promtool check metrics <"$work/plugin-metrics.txt" >"$work/promtool-plugin.log" 2>&1 ||
  fail "promtool rejects the device plugin's exposition"
plugin_targets=$(printf '"127.0.0.1:%s",' "${plugin_ports[@]}")

# --- a real Prometheus ----------------------------------------------------------------------------
# A free port: ask the kernel for one and let it go again right away.
prom_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rule_files=""
if [ -n "$rules_dir" ]; then
  rule_files="rule_files: [\"$rules_dir/*.rules.yml\"]"
fi
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
$rule_files
scrape_configs:
  - job_name: epc-extender
    static_configs:
      - targets: ["127.0.0.1:$http_port"]
  - job_name: epc-device-plugin
    static_configs:
      - targets: [${plugin_targets%,}]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)

query() {  # prints the single sample value of an instant query, or nothing
  curl -fsS --get "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
    sed -n 's/.*"value":\[[0-9.]*,"\([^"]*\)"\].*/\1/p'
}
wait_query() {  # like query, but waits (bounded) for a result: recorded series lag the scrape
  local value=""
  for _ in $(seq 100); do
    value=$(query "$1")
    [ -n "$value" ] && break
    sleep 0.1
  done
  printf '%s' "$value"
}
served() {  # the value the extender itself serves for an exact series line prefix
  grep -F "$1 " "$work/metrics.txt" | head -1 | awk '{print $2}'
}

# Wait (bounded) until Prometheus has scraped the target at least once.
for _ in $(seq $((150 * scale))); do
  [ "$(query 'up{job="epc-extender"}')" = "1" ] && break
  sleep 0.2
done
[ "$(query 'up{job="epc-extender"}')" = "1" ] || fail "Prometheus never scraped the extender"
plugins_up=""
for _ in $(seq $((150 * scale))); do
  plugins_up=$(query 'sum(up{job="epc-device-plugin"})')
  [ "$plugins_up" = "${#plugin_ports[@]}" ] && break
  sleep 0.2
done
[ "$plugins_up" = "${#plugin_ports[@]}" ] ||
  fail "Prometheus scraped $plugins_up of ${#plugin_ports[@]} device plugins"

# The plugins' view agrees with the extender's: every plugin streams its reports, every resource a
# plugin serves is registered, and each SGX pod the extender accounts was one enclave Allocate.
streams=$(query 'sum(epc_plugin_report_stream_connected)')
[ "$streams" = "${#plugin_ports[@]}" ] || fail "$streams of ${#plugin_ports[@]} plugins stream reports"
[ "$(query 'min(epc_plugin_resource_registered)')" = "1" ] || fail "a plugin resource is not registered"
allocations=$(query 'sum(epc_plugin_allocate_calls_total{resource="sgx.intel.com/enclave",result="ok"})')
accounted=$(query 'sum(epc_node_ledger_pods)')
[ -n "$allocations" ] && [ "$allocations" = "$accounted" ] ||
  fail "enclave Allocate calls by the plugins ($allocations) != SGX pods the extender accounts ($accounted)"

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

rules_checked=0
if [ -n "$rules_dir" ]; then
  # Every rule evaluated at least once, and healthy (Prometheus reports errors per rule).
  rules_json=""
  for _ in $(seq 100); do
    rules_json=$(curl -fsS "http://127.0.0.1:$prom_port/api/v1/rules" 2>/dev/null || true)
    if python3 - "$rules_json" <<'PY'
import json, sys
rules = [r for g in json.loads(sys.argv[1])["data"]["groups"] for r in g["rules"]]
sys.exit(0 if rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules) else 1)
PY
    then break; fi
    sleep 0.2
  done
  rules_checked=$(python3 - "$rules_json" <<'PY'
import json, sys
rules = [r for g in json.loads(sys.argv[1])["data"]["groups"] for r in g["rules"]]
bad = [f'{r["name"]}: {r.get("health")} {r.get("lastError", "")}' for r in rules if r.get("health") != "ok"]
if bad or not rules:
    print("unhealthy rules: " + "; ".join(bad) if bad else "no rules loaded", file=sys.stderr)
    sys.exit(1)
print(len(rules))
PY
) || fail "a rule in $rules_dir does not evaluate on the live series"

  recorded_free=$(wait_query 'cluster:epc_free_bytes:sum')
  [ -n "$recorded_free" ] && [ "$(printf '%.0f' "$recorded_free")" = "$(printf '%.0f' "$cluster_free")" ] ||
    fail "cluster:epc_free_bytes:sum ($recorded_free) != epc_cluster_free_bytes ($cluster_free)"

  # Placeable 64Mi pods counted here from the exposition: per node that is up,
  # min(floor(free / 64Mi), free enclave slots).
  want_placeable=$(awk '
    /^epc_node_free_bytes\{/      { match($0, /node="[^"]*"/); free[substr($0, RSTART, RLENGTH)] = $2 }
    /^epc_node_up\{/              { match($0, /node="[^"]*"/); up[substr($0, RSTART, RLENGTH)] = $2 }
    /^epc_node_enclave_slots\{/   { match($0, /node="[^"]*"/); n = substr($0, RSTART, RLENGTH)
                                    if ($0 ~ /state="total"/) total[n] = $2; else used[n] = $2 }
    END { sum = 0
          for (n in free) if (up[n] == 1) {
            pods = int(free[n] / 67108864); slots = total[n] - used[n]
            sum += (pods < slots ? pods : slots) }
          printf "%d", sum }' "$work/metrics.txt")
  served_placeable=$(served 'epc_cluster_placeable_pods{shape="64Mi"}')
  [ "$(printf '%.0f' "${served_placeable:-x}")" = "$want_placeable" ] ||
    fail "the extender's epc_cluster_placeable_pods{shape=64Mi} ($served_placeable) != count from /metrics ($want_placeable)"
  got_placeable=$(wait_query 'cluster:epc_placeable_pods:sum{shape="64Mi"}')
  [ -n "$got_placeable" ] && [ "$(printf '%.0f' "$got_placeable")" = "$want_placeable" ] ||
    fail "cluster:epc_placeable_pods:sum{shape=64Mi} ($got_placeable) != count from /metrics ($want_placeable)"
fi

panel_queries=0
if [ -n "$dashboards_dir" ]; then
  # Trends (deriv, predict_linear) need two samples of the recorded series.
  wait_query 'count_over_time(cluster:epc_free_bytes:sum[1m]) >= 3' >/dev/null
  panel_queries=$(python3 "$here/query_dashboards.py" "http://127.0.0.1:$prom_port" sgx-xeon-64g \
    "$dashboards_dir"/*.json 2>"$work/dashboards.log") ||
    fail "dashboard queries: $(cat "$work/dashboards.log")"
fi

echo "prometheus scrape test: $checked per-node series, cluster sum and request counter agree;" \
  "${#plugin_ports[@]} plugins scraped, $allocations Allocate calls = pods accounted;" \
  "$rules_checked rules healthy, ${want_placeable:-?} placeable 64Mi pods by rule and by count," \
  "$panel_queries dashboard queries answered"
echo "1 passed, 0 failed"
