#!/usr/bin/env bash
# Runs the daemon benchmarks of issues 2 and 3 in a namespace lab (root; not part of the test suite).
# Usage: bench/run-all.sh [startup|converge|join|memory|iperf|all]   (default all)
# Uses the published binaries in artifacts/bin (run scripts/publish.sh first) or $FLANNEL_BIN_DIR.
# Every namespace, etcd, flanneld and iperf3 it starts is removed by the lab's dispose, also on failure.
# Results: markdown rows on stdout (bench/results/<what>.md), progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
dotnet build bench/Flannel.Bench/Flannel.Bench.csproj -c Release --nologo -v quiet >/dev/null
bench=bench/Flannel.Bench/bin/Release/net10.0/Flannel.Bench
mkdir -p bench/results
run() { local name=$1; shift; echo "== $name: $*" >&2; uptime >&2; "$bench" "$@" | tee "bench/results/$name.md"; }
case $what in
  startup|all) run startup startup 10 ;;&
  converge|all)
    run converge-1000 converge 1000 5
    run converge-10000 converge 10000 3 25 ;;&
  join|all) run join join 10 ;;&
  memory|all) run memory memory 3 ;;&
  iperf|all) run iperf iperf 3 10 ;;
esac
