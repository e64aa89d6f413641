#!/usr/bin/env bash
# Static analysis: go vet and staticcheck over the whole module; exits
# non-zero on any finding. staticcheck is built once into the git-ignored
# .cache (a temporary module, so go.mod is untouched) and reused.
#
#   bash scripts/lint.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export PATH="$PATH:/usr/local/go/bin"
version=v0.8.2 # staticcheck 2026.2.2, the first release line that reads go 1.26
bin="$top/.cache/tools/staticcheck-$version"
if [ ! -x "$bin" ]; then
  mkdir -p "$top/.cache/tools"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && go mod init lint-tools >/dev/null 2>&1 &&
    GOFLAGS=-mod=mod go get "honnef.co/go/tools/cmd/staticcheck@$version" &&
    GOFLAGS=-mod=mod go build -o "$tmp/staticcheck" honnef.co/go/tools/cmd/staticcheck)
  mv "$tmp/staticcheck" "$bin.tmp.$$" && mv "$bin.tmp.$$" "$bin" # rename: others share the cache
fi
status=0
go vet ./... || status=1
"$bin" ./... || status=1
exit $status
