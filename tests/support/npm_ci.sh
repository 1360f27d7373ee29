# Sourced by the Node-based test drivers (tests/integration/dashboards, tests/integration/deploy):
# `npm_ci_once PACKAGE_DIR NPM_DIR` installs the packages pinned in PACKAGE_DIR's package-lock.json
# into NPM_DIR (in the build tree), again only when package.json or the lock file changed. Needs
# $node and $npm set; checks every tool it and its caller use, failing (never skipping) without one.
npm_ci_once() {
  local package_dir="$1" npm_dir="$2" tool
  for tool in "$node" "$npm" python3 flock sha256sum; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "$0: $tool not found: scripts/bootstrap installs it" >&2
      exit 1
    fi
  done
  mkdir -p "$npm_dir"
  local stamp="$npm_dir/installed.sha256"
  local want
  want="$(cat "$package_dir/package.json" "$package_dir/package-lock.json" | sha256sum)"
  # ctest -j runs the checks side by side: the first one installs, the others wait for it.
  exec 9>"$npm_dir/install.lock"
  flock 9
  if [ ! -d "$npm_dir/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    rm -f "$stamp"
    cp "$package_dir/package.json" "$package_dir/package-lock.json" "$npm_dir/"
    local start=$SECONDS
    # --ignore-scripts: the packages are data and libraries; nothing needs to run at install.
    (cd "$npm_dir" && "$npm" ci --no-audit --no-fund --ignore-scripts --loglevel=error)
    echo "$want" >"$stamp"
    echo "npm ci into $npm_dir: $((SECONDS - start)) s"
  fi
  flock -u 9
}
