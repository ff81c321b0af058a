#!/usr/bin/env bash
# Pod-to-pod TCP throughput across two namespace "nodes" on a veth underlay: our udp forwarder (offloaded, plain,
# and with single optimisations switched off) against kernel vxlan, in the same run. Not part of the test suite.
# Usage: bench/udp/run.sh            (env: RUNS=3 DURATION=10 STREAMS="1 4" MODES="offload plain vxlan no-gso no-gro no-coalesce no-tso";
#                                    also mq2 = two TUN queues + SO_REUSEPORT sockets, buf4m = 4 MiB socket buffers (the default is 16 MiB),
#                                    yieldN = N sched_yields before a dry forwarding thread sleeps (the default is 1))
# Everything lives in namespaces named fnb-<hex>-*, deleted on exit. Prints a markdown table; raw data in $OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
STREAMS=${STREAMS:-"1 4"}
MODES=${MODES:-"offload plain vxlan no-gso no-gro no-coalesce no-tso"}
OUT=${OUT:-$(mktemp -d /tmp/udpbench.XXXXXX)}
mkdir -p "$OUT"
P=fnb-$(openssl rand -hex 3)
N1=$P-n1
N2=$P-n2
# RUNNER overrides the node runner, e.g. a Native AOT build: RUNNER=/tmp/udpbench-aot/UdpBench
RUNNER=${RUNNER:-"dotnet bench/udp/UdpBench/bin/Release/net10.0/UdpBench.dll"}
# A mode <label>@<mode> runs <mode> with the runner in env RUNNER_<label> (e.g. a build of an older commit), so
# several builds compare in one invocation: RUNNER_main=/tmp/main-aot/UdpBench MODES="main@offload offload vxlan".
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  ip netns del "$N1" 2>/dev/null || true
  ip netns del "$N2" 2>/dev/null || true
}
trap cleanup EXIT

dotnet build bench/udp/UdpBench/UdpBench.csproj -c Release --nologo -v quiet >/dev/null

ip netns add "$N1"
ip netns add "$N2"
ip -n "$N1" link add eth0 type veth peer name eth0 netns "$N2"
for i in 1 2; do
  ns=$P-n$i
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add 192.0.2.$i/24 dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" addr add 198.18.$i.2/32 dev lo
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start_udp() { # mode
  pids=()
  for i in 1 2; do
    j=$((3 - i))
    ns=$P-n$i
    local runner=$RUNNER mode=$1
    if [ "${mode#*@}" != "$mode" ]; then
      local var=RUNNER_${mode%%@*}
      runner=${!var:?"set $var for mode $mode"}
      mode=${mode#*@}
    fi
    ip netns exec "$ns" $runner --bind 192.0.2.$i --route 198.18.$j.0/24=192.0.2.$j --mode "$mode" >"$OUT/$1-node$i.log" 2>&1 &
    pids+=($!)
  done
  for i in 1 2; do
    for _ in $(seq 100); do grep -q ready "$OUT/$1-node$i.log" && break; sleep 0.1; done
    grep -q ready "$OUT/$1-node$i.log" || { cat "$OUT/$1-node$i.log"; exit 1; }
    ns=$P-n$i
    ip -n "$ns" addr add 198.18.$i.0/32 dev flannel0
    ip -n "$ns" link set flannel0 mtu 1472 up
    ip -n "$ns" route add 198.18.0.0/16 dev flannel0
  done
}

stop_udp() {
  for pid in "${pids[@]}"; do kill "$pid"; done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  pids=()
}

start_vxlan() {
  for i in 1 2; do
    j=$((3 - i))
    ns=$P-n$i
    ip -n "$ns" link add flannel.1 type vxlan id 1 dev eth0 local 192.0.2.$i remote 192.0.2.$j dstport 8472
    ip -n "$ns" addr add 198.18.$i.0/32 dev flannel.1
    ip -n "$ns" link set flannel.1 mtu 1450 up
    ip -n "$ns" route add 198.18.$j.0/24 dev flannel.1
  done
}

stop_vxlan() {
  for i in 1 2; do ip -n "$P-n$i" link del flannel.1; done
}

measure() { # mode streams run
  local json=$OUT/$1-P$2-r$3.json before after
  ip netns exec "$N2" iperf3 -s -B 198.18.2.2 -1 -D -I "$OUT/iperf3.pid"
  sleep 0.3
  before=0
  if [ ${#pids[@]} -gt 0 ]; then before=$(( $(cpu_ticks "${pids[0]}") + $(cpu_ticks "${pids[1]}") )); fi
  ip netns exec "$N1" iperf3 -c 198.18.2.2 -B 198.18.1.2 -t "$DURATION" -P "$2" -J >"$json" || true
  after=0
  if [ ${#pids[@]} -gt 0 ]; then after=$(( $(cpu_ticks "${pids[0]}") + $(cpu_ticks "${pids[1]}") )); fi
  echo $((after - before)) >"$OUT/$1-P$2-r$3.fwdticks"
  # The one-off server exits after the test; make sure before the next one starts.
  if [ -f "$OUT/iperf3.pid" ]; then kill "$(cat "$OUT/iperf3.pid")" 2>/dev/null || true; rm -f "$OUT/iperf3.pid"; fi
  sleep 0.3
}

# Runs are interleaved (run 1 of every mode, then run 2, ...) so that the load of whatever else the machine is
# doing drifts over all modes alike; each mode's data path is set up afresh for each run.
for run in $(seq "$RUNS"); do
  for mode in $MODES; do
    if [ "$mode" = vxlan ]; then start_vxlan; else start_udp "$mode"; fi
    ip netns exec "$N1" ping -c 1 -W 2 198.18.2.2 -I 198.18.1.2 >/dev/null
    for streams in $STREAMS; do
      # The no-* toggles are measured with one stream only, to keep the run short.
      case $mode in no-* | *@no-*) if [ "$streams" != 1 ]; then continue; fi ;; esac
      measure "$mode" "$streams" "$run"
    done
    if [ "$mode" = vxlan ]; then stop_vxlan; else stop_udp; fi
  done
done

python3 - "$OUT" "$MODES" "$STREAMS" <<'PY'
import json, os, statistics, sys
out, modes, streams = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
hz = os.sysconf("SC_CLK_TCK")
print("| mode | streams | Gbit/s (median) | runs (Gbit/s) | forwarder CPU s/GB | iperf3 CPU s/GB (both ends) | retransmits |")
print("|---|---|---|---|---|---|---|")
for mode in modes:
    for p in streams:
        rows = []
        for r in range(1, 20):
            f = f"{out}/{mode}-P{p}-r{r}.json"
            if not os.path.exists(f):
                continue
            try:
                j = json.load(open(f))
                end = j["end"]
                bits = end["sum_received"]["bits_per_second"]
                gbytes = end["sum_received"]["bytes"] / 1e9
                secs = end["sum_received"]["seconds"]
                cpu = end["cpu_utilization_percent"]
                iperf_cpu = (cpu["host_total"] + cpu["remote_total"]) / 100 * secs
                fwd = int(open(f"{out}/{mode}-P{p}-r{r}.fwdticks").read()) / hz
                rows.append((bits / 1e9, fwd / gbytes, iperf_cpu / gbytes, end["sum_sent"].get("retransmits", 0)))
            except (KeyError, ValueError, ZeroDivisionError):
                rows.append((0.0, float("nan"), float("nan"), 0))
        if not rows:
            continue
        med = statistics.median(r[0] for r in rows)
        fwd = "n/a (kernel)" if mode == "vxlan" else f"{statistics.median(r[1] for r in rows):.2f}"
        print(f"| {mode} | {p} | {med:.2f} | {', '.join(f'{r[0]:.2f}' for r in rows)} | {fwd} | {statistics.median(r[2] for r in rows):.2f} | {statistics.median(r[3] for r in rows):.0f} |")
PY
echo "raw results: $OUT"
