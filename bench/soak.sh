#!/usr/bin/env bash
# Reliability soak too long for CI (RELIABILITY.md, case 8): 2,000 simulated nodes churning 50 joins + 50 leaves a
# second for FLANNEL_SOAK_CHURN_SECONDS (default 60) while 3 real vxlan daemons watch, then 5 joins + 5 leaves every
# 10 s until FLANNEL_SOAK_SECONDS (default 600) have passed. Needs root and published binaries (scripts/publish.sh).
# Prints the time to converge after the churn, RSS every 10 s (peak, after the churn, final), CPU seconds per phase
# and the etcd requests each daemon sent (flannel_store_requests_total from its /metrics), per phase and per minute.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLANNEL_BIN_DIR="${FLANNEL_BIN_DIR:-$PWD/artifacts/bin}"
export FLANNEL_SOAK=1
dotnet build tests/Flannel.Reliability.Tests/Flannel.Reliability.Tests.csproj -c Release --nologo -v quiet
dotnet test tests/Flannel.Reliability.Tests/Flannel.Reliability.Tests.csproj -c Release --no-build --nologo \
  --filter "FullyQualifiedName~ChurnSoakTests" --logger "console;verbosity=detailed"
