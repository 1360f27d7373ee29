#!/usr/bin/env bash
# Installs the npm packages pinned in package-lock.json beside this script into NPM_DIR (in the
# build tree; again only when the lock file or package.json changed) and runs one dashboard check.
#
# usage: grafana_dashboards_test.sh MODE NPM_DIR DASHBOARD_DIR
#   valid      every DASHBOARD_DIR/*.json passes validate.mjs (@grafana/schema and datasource rules)
#   broken     broken copies of one of them are each rejected, for the reason they were broken
#   configmap  DASHBOARD_DIR/configmap.yaml is make-configmap's current output and holds every file
#
# EPC_NODE and EPC_NPM name the programs (default: node and npm on PATH).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ $# -ne 3 ] || ! [[ "$1" =~ ^(valid|broken|configmap)$ ]]; then
  echo "usage: $0 valid|broken|configmap NPM_DIR DASHBOARD_DIR" >&2
  exit 2
fi
mode="$1" npm_dir="$2" dashboards="$3"
node="${EPC_NODE:-node}" npm="${EPC_NPM:-npm}"
# shellcheck source=../../support/npm_ci.sh
source "$here/../../support/npm_ci.sh"
npm_ci_once "$here" "$npm_dir"

shopt -s nullglob
files=("$dashboards"/*.json)
if [ ${#files[@]} -eq 0 ]; then
  echo "$0: no dashboard JSON files in $dashboards" >&2
  exit 1
fi

case "$mode" in
  valid) "$node" "$here/validate.mjs" --modules "$npm_dir" "${files[@]}" ;;
  broken) "$node" "$here/broken_dashboards_test.mjs" --modules "$npm_dir" "${files[0]}" ;;
  configmap)
    python3 "$dashboards/make-configmap" --check
    "$node" "$here/configmap_test.mjs" --modules "$npm_dir" "$dashboards/configmap.yaml" "$dashboards"
    ;;
esac
