#!/usr/bin/env bash
# Installs the npm packages pinned in package-lock.json beside this script into NPM_DIR (in the
# build tree; again only when the lock file or package.json changed) and runs one deploy check.
#
# usage: deploy_manifests_test.sh MODE NPM_DIR SOURCE_ROOT [ARGS...]
#   valid           every manifest under config/deploy and every KubeSchedulerConfiguration against
#                   the pinned schemas, and the cross-references of each install set (validate.mjs)
#   broken          broken copies of the tree are each rejected, for the reason they were broken
#   prometheusrule  config/deploy/monitoring/prometheusrule.yaml is make-prometheusrule's current
#                   output and holds exactly the groups of dashboards/rules/*.rules.yml
#   kustomize       kubectl kustomize gives the objects the test's own resolver gives
#                   (ARGS: KUBECTL)
#   flags           the flags given to epc-extender and epc-device-plugin are flags of the built
#                   binaries (ARGS: EPC_EXTENDER EPC_DEVICE_PLUGIN)
#
# EPC_NODE and EPC_NPM name the programs (default: node and npm on PATH).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ $# -lt 3 ] || ! [[ "$1" =~ ^(valid|broken|prometheusrule|kustomize|flags)$ ]]; then
  echo "usage: $0 valid|broken|prometheusrule|kustomize|flags NPM_DIR SOURCE_ROOT [ARGS...]" >&2
  exit 2
fi
mode="$1" npm_dir="$2" src="$3"
shift 3
node="${EPC_NODE:-node}" npm="${EPC_NPM:-npm}"
# shellcheck source=../../support/npm_ci.sh
source "$here/../../support/npm_ci.sh"
npm_ci_once "$here" "$npm_dir"

case "$mode" in
  valid) "$node" "$here/validate.mjs" --modules "$npm_dir" --root "$src" ;;
  broken) "$node" "$here/broken_manifests_test.mjs" --modules "$npm_dir" "$src" ;;
  prometheusrule)
    python3 "$src/config/deploy/monitoring/make-prometheusrule" --check
    "$node" "$here/prometheusrule_test.mjs" --modules "$npm_dir" "$src"
    ;;
  kustomize)
    [ $# -eq 1 ] || { echo "$0 kustomize: needs KUBECTL" >&2; exit 2; }
    "$node" "$here/kustomize_build_test.mjs" --modules "$npm_dir" "$1" "$src"
    ;;
  flags)
    [ $# -eq 2 ] || { echo "$0 flags: needs EPC_EXTENDER EPC_DEVICE_PLUGIN" >&2; exit 2; }
    "$node" "$here/flags_test.mjs" --modules "$npm_dir" "$src" "$1" "$2"
    ;;
esac
