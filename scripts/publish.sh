#!/usr/bin/env bash
# Builds the solution and publishes the Native AOT executables (flanneld, the flannel CNI plugin) to artifacts/bin.
set -euo pipefail
cd "$(dirname "$0")/.."
out=artifacts/bin
mkdir -p "$out"
dotnet build Flannel.slnx -c Release --nologo -v quiet --no-restore
for project in src/Flanneld/Flanneld.csproj src/Flannel.Cni/Flannel.Cni.csproj; do
  [ -f "$project" ] || continue
  dotnet publish "$project" -c Release -r linux-x64 --nologo -v quiet -o "$out" -p:PublishAot=true
done
rm -f "$out"/*.dbg "$out"/*.pdb
