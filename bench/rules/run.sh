#!/usr/bin/env bash
# Runs the rules benchmark inside a network namespace of its own, which it always deletes.
# Usage: bench/rules/run.sh [no-op passes (200)] [repairs (20)] [kube-proxy-like rules to add first (0)] [legacy: iptables-legacy only]
set -euo pipefail
cd "$(dirname "$0")"
dotnet build -c Release --nologo -v quiet RulesBench.csproj | grep -E "error|warn" && exit 1
ns="fnt-$(openssl rand -hex 3)-bench"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip netns exec "$ns" dotnet bin/Release/net10.0/RulesBench.dll "$@"
