#!/usr/bin/env bash
# Benchmarks the flannel CNI plugin (not part of the test suite): ADD/DEL wall time through the plugin beside the
# bridge plugin called directly with the same rendered configuration, the plugin's start-up time and peak RSS.
# Runs inside throw-away network namespaces (fnt-bench-<hex>-*); needs root, the published plugin
# (scripts/publish.sh, or FLANNEL_BIN_DIR) and containernetworking-plugins in /usr/lib/cni.
# Usage: bench/cni/run.sh [runs] [baseline-plugin]   (runs default 30; a baseline plugin, e.g. main's build, is
# measured in the same rounds, interleaved with ours)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin_dir=${FLANNEL_BIN_DIR:-$PWD/artifacts/bin}
[ -x "$bin_dir/flannel" ] || { echo "no $bin_dir/flannel: run scripts/publish.sh first" >&2; exit 1; }
exec python3 bench/cni/bench.py "$bin_dir/flannel" "${1:-30}" "${2:-}"
