#!/usr/bin/env bash
# Runs the lease watch benchmark against a throw-away etcd 3.4 on loopback (killed and deleted on exit).
# Usage: bench/watch/run.sh [rounds]   (AOT-publishes the bench program first, like the daemon ships)
set -euo pipefail
cd "$(dirname "$0")"
rounds=${1:-5}
out=$(mktemp -d /tmp/fnt-bench-XXXXXX)
client=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
peer=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
etcd_pid=
cleanup() { [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$out"; }
trap cleanup EXIT

dotnet publish WatchBench.csproj -c Release -r linux-x64 -o "$out/bin" --nologo -v quiet >/dev/null
/usr/bin/etcd --name bench --data-dir "$out/data" \
  --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
  --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
  --initial-cluster "bench=http://127.0.0.1:$peer" --max-txn-ops 20000 --log-level error --logger zap \
  >"$out/etcd.log" 2>&1 &
etcd_pid=$!
for _ in $(seq 50); do
  ETCDCTL_API=3 etcdctl --endpoints "http://127.0.0.1:$client" endpoint health >/dev/null 2>&1 && break
  sleep 0.2
done
"$out/bin/WatchBench" "http://127.0.0.1:$client" "$rounds"
