#!/usr/bin/env bash
# Run every test, the real-kernel ones included: installs what they need
# (Debian packages, the Debian kernel packages in .cache/), then go test.
#
#   bash scripts/test.sh            everything
#   KLPC_QUICK=1 bash scripts/test.sh   only what needs no download
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ "${KLPC_QUICK:-0}" != 1 ]; then
  [ -x scripts/e2e-setup.sh ] && bash scripts/e2e-setup.sh
  bash scripts/fetch-kernels.sh 6.1.0-56 6.1.0-47
  # The kernel sources the klp-build checks read (scripts/livepatch of 7.x).
  bash plan/klp/testdata/unpack-kernel-source.sh
  export KLPC_E2E=1 KLPC_INTEGRATION=1
fi
go vet ./...
# Timeouts sized for a busy 2-core machine: the unit, golden and Kbuild
# tests take about a minute there; each kernel line's real-kernel suite
# boots its kernel under emulation (no KVM) a few times.
pkgs=$(go list ./... | grep -v '/e2e$')
go test -count=1 -timeout 20m $pkgs 2>&1
go test -count=1 -timeout 60m ./e2e 2>&1
