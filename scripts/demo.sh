#!/usr/bin/env bash
# Sets up the machine, builds, and runs the demo: a cluster in network namespaces with etcd, flanneld on each node,
# pods attached through the flannel CNI plugin and pinging across nodes. Arguments: [backend (vxlan)] [nodes (3)].
# --ipv6 (or FLANNEL_DEMO_IPV6=1): dual stack, pods ping6 across nodes too (2001:db8::/32 addresses only).
# FLANNEL_DEMO_HOLD=1 keeps the cluster up until Ctrl-C. Everything it made is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/publish.sh
export FLANNEL_BIN_DIR="$PWD/artifacts/bin"
exec dotnet run --project lab/Flannel.Demo -c Release --no-build -- "$@"
