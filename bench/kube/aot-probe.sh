#!/usr/bin/env bash
# Runs the Native AOT probe (the store as the daemon ships it) against the fake API server with N nodes.
# Usage: bench/kube/aot-probe.sh [N...]   (default 1000 5000)
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build bench/kube/KubeBench/KubeBench.csproj -c Release --nologo -v quiet
dotnet publish bench/kube/AotProbe/AotProbe.csproj -c Release -r linux-x64 --nologo -v quiet -o artifacts/bench/aotprobe
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for n in "${@:-1000 5000}"; do
  for count in $n; do
    mkfifo "$work/in"
    dotnet bench/kube/KubeBench/bin/Release/net10.0/KubeBench.dll serve "$count" < "$work/in" > "$work/out" &
    server=$!
    exec 3> "$work/in"
    until grep -q '^url ' "$work/out"; do sleep 0.2; done
    url=$(sed -n 's/^url //p' "$work/out")
    echo "== $count nodes"
    /usr/bin/time -f "max RSS %M KiB, %U s user, %S s system" artifacts/bench/aotprobe/AotProbe "$url"
    echo quit >&3
    exec 3>&-
    wait "$server"
    rm -f "$work/in"
  done
done
