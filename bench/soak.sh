#!/usr/bin/env bash
# Reliability soaks too long for CI (RELIABILITY.md, case 8): 2,000 simulated nodes churning 50 joins + 50 leaves a
# second for FLANNEL_SOAK_SECONDS (default 60) while 3 real vxlan daemons watch. Needs root and published binaries
# (scripts/publish.sh). Prints time to converge after the churn, peak/final RSS and CPU seconds per daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
export FLANNEL_BIN_DIR="${FLANNEL_BIN_DIR:-$PWD/artifacts/bin}"
export FLANNEL_SOAK=1
dotnet build tests/Flannel.Reliability.Tests/Flannel.Reliability.Tests.csproj -c Release --nologo -v quiet
dotnet test tests/Flannel.Reliability.Tests/Flannel.Reliability.Tests.csproj -c Release --no-build --nologo \
  --filter "FullyQualifiedName~ChurnSoakTests" --logger "console;verbosity=detailed"
