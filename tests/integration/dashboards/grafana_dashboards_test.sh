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
for tool in "$node" "$npm" python3 flock sha256sum; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$0: $tool not found: scripts/bootstrap installs it" >&2
    exit 1
  fi
done

mkdir -p "$npm_dir"
stamp="$npm_dir/installed.sha256"
want="$(cat "$here/package.json" "$here/package-lock.json" | sha256sum)"
# ctest -j runs these checks side by side: the first one installs, the others wait for it.
exec 9>"$npm_dir/install.lock"
flock 9
if [ ! -d "$npm_dir/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  rm -f "$stamp"
  cp "$here/package.json" "$here/package-lock.json" "$npm_dir/"
  start=$SECONDS
  # --ignore-scripts: the packages are data and libraries; nothing needs to run at install.
  (cd "$npm_dir" && "$npm" ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  echo "$want" >"$stamp"
  echo "npm ci into $npm_dir: $((SECONDS - start)) s"
fi
flock -u 9

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
